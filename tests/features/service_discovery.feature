Feature: Service discovery
  Services are discovered through environment variables (in pods created after the Service)
  and through the cluster DNS (from any pod, old or new).

  Scenario: Each tier resolves the next by DNS name
    Given the "dev" stack is deployed
    Then the cluster DNS resolves the "backend" Service name to its cluster IP
    And the cluster DNS resolves the "database" Service name to its cluster IP
    And the "frontend" pods carry the "backend" DNS name in "BACKEND_HOST"
    And the "backend" pods carry the "database" DNS name in "DB_HOST"

  Scenario: A new Service is discovered through env vars in new pods, not in old ones
    Given the "dev" stack is deployed
    When a new Deployment "extra" and its Service are created
    Then the "extra" pods have the env var "FRONTEND_SERVICE_HOST"
    And the "frontend" pods have the env var "BACKEND_SERVICE_HOST"
    But the "frontend" pods do not have the env var "EXTRA_SERVICE_HOST"

  Scenario: A new Service is discovered through DNS from old and new pods
    Given the "dev" stack is deployed
    When a new Deployment "extra" and its Service are created
    Then the "frontend" pods fetch "http://extra" by name
    And the "extra" pods fetch "http://frontend" by name
