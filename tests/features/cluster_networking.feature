Feature: Cluster networking
  Pods reach each other through Services by DNS name; the tiers of the app call each other so.

  Scenario: A busybox pod fetches the frontend by its Service name
    Given the "dev" stack is deployed
    When a busybox pod fetches "http://frontend" in the stack's namespace
    Then the sample page is returned

  Scenario: The frontend reaches the backend, and the backend the database, by DNS name
    Given the "dev" stack is deployed
    When "/api/status" is fetched from the frontend on the node port
    Then the backend answers through the frontend and reports the database "ok"
