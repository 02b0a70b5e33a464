Feature: Service discovery
  Each tier finds the next one by its cluster DNS name; Kubernetes also injects the
  Service env vars into pods created after the Service.

  Scenario: Each tier resolves the next by DNS name
    Given the "dev" stack is deployed
    Then the cluster DNS resolves the "backend" Service name to its cluster IP
    And the cluster DNS resolves the "database" Service name to its cluster IP
    And the "frontend" pods carry the "backend" DNS name in "BACKEND_HOST"
    And the "backend" pods carry the "database" DNS name in "DB_HOST"

  Scenario: Env-var discovery works for Services created before the pods
    Given the "dev" stack is deployed
    Then every "backend" pod was created after the "database" Service
    And the "backend" pods see the "database" Service env vars, or the check says why it cannot look
