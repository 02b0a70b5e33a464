Feature: Scaling without changing the Service
  Scaling a tier through the stack config changes its endpoints, never its address.

  Scenario: Scaling the backend to 5 and back to 1
    Given the "dev" stack is deployed
    When the "backend" is scaled to 5 replicas through the stack config
    Then the "backend" Service keeps its cluster IP, DNS name and port
    And the "backend" endpoints hold 5 ready addresses
    When the "backend" is scaled to 1 replicas through the stack config
    Then the "backend" Service keeps its cluster IP, DNS name and port
    And the "backend" endpoints hold 1 ready addresses
