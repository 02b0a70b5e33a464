Feature: LoadBalancer exposure
  Staging and prod expose the frontend through a LoadBalancer Service.

  Scenario Outline: The frontend's page renders at its load-balancer address
    Given the "<stack>" stack is deployed
    Then the "frontend" Service has a load-balancer ingress address
    And the exported load-balancer endpoint matches it
    And the sample page renders at the load-balancer address

    Examples:
      | stack   |
      | staging |
      | prod    |
