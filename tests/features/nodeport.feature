Feature: NodePort exposure
  The dev stack exposes its frontend on one static node port, the same on every node,
  so its URL is stable.

  Scenario: The dev frontend uses the same static node port on every node
    Given the "dev" stack is deployed
    Then the "frontend" Service has type "NodePort" and the exported node port
    And the node port is the one pinned in the stack config
    And every node answers on the node port, or the check says why it cannot be reached
