Feature: Scaling without disruption
  Scaling the frontend through the stack config changes its endpoints, never its address, and
  the page on the node port stays reachable throughout.

  Scenario: Scaling the frontend to 5 and back to 1 under load
    Given the "dev" stack is deployed
    And a bounded probe loop requests the page on the node port
    When the "frontend" is scaled to 5 replicas through the stack config
    Then the "frontend" endpoints hold 5 ready addresses
    And the "frontend" Service keeps its cluster IP, DNS name and port
    When the "frontend" is scaled to 1 replicas through the stack config
    Then the "frontend" endpoints hold 1 ready addresses
    And the "frontend" Service keeps its cluster IP, DNS name and port
    And the probe loop saw no failed request
