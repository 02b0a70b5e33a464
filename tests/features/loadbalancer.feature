Feature: LoadBalancer exposure
  Staging and prod expose the frontend through a LoadBalancer Service.

  Scenario Outline: The frontend receives a load-balancer address that matches its export
    Given the "<stack>" stack is deployed
    Then the "frontend" Service has a load-balancer ingress address
    And the exported load-balancer endpoint matches it

    Examples:
      | stack   |
      | staging |
      | prod    |
