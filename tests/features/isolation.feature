Feature: Network isolation
  The NetworkPolicies a stack declares hold on the node: each tier accepts connections only from
  the tier that calls it (the frontend from anyone), and every other connection is refused.

  Scenario Outline: Only the backend reaches the database; only the frontend reaches the backend
    Given the "<stack>" stack is deployed
    When the frontend opens the database port
    Then the connection is refused
    When the backend opens the database port
    Then it connects
    When the frontend opens the backend port
    Then it connects
    When a pod in another namespace opens the backend port
    Then the connection is refused
    When a pod in another namespace opens the database port
    Then the connection is refused
    When a pod in another namespace opens the frontend port
    Then it connects

    Examples:
      | stack   |
      | dev     |
      | staging |
      | prod    |
