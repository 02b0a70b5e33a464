Feature: NodePort Service
  Expose the frontend on each node on the same static port, reachable from outside the cluster
  at every node's IP:PORT.

  Scenario: The dev frontend's sample page renders on the node port
    Given the "dev" stack is deployed
    Then the "frontend" Service has type "NodePort" and the exported node port
    And the node port is the one pinned in the stack config
    And the sample page renders on every node's IP at the node port
