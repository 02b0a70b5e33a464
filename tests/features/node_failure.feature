@disruptive
Feature: Production on two nodes survives losing one
  prod's tiers spread their replicas over the cluster's real nodes and carry PodDisruptionBudgets:
  draining a node moves its pods without a failed request, and a node lost abruptly is replaced
  on the other node while the load-balancer address keeps answering. The cluster runs two real
  nodes (make cluster-up NODES=2).

  Scenario: Draining the node that holds most of prod's pods drops no request
    Given prod runs on two nodes
    And a bounded probe loop requests the page at the frontend's load-balancer address
    And a bounded probe loop in the cluster requests the backend's Service
    When the node holding most of prod's pods is drained
    Then no request failed
    And no tier had fewer Ready pods than its disruption budget allows
    And every tier is back to its replica count on the other node
    And the "prod" stack verifies
    When the drained node is uncordoned and prod is rolled out
    Then every tier of several replicas stands on both nodes
    And the "prod" stack verifies

  Scenario: Losing a node abruptly keeps the load-balancer address answering
    Given prod runs on two nodes
    And a bounded probe loop requests the page at the frontend's load-balancer address
    When the node holding most of prod's pods is lost
    Then the lost node turns NotReady
    And the lost node's pods are replaced on the other node
    And every request is answered once every tier is back on the other node
    When the lost node comes back and prod is rolled out
    Then every tier of several replicas stands on both nodes
    And the "prod" stack verifies
