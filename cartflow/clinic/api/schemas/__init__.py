"""The API's request and response schemas, one module per area of routes; the routers in
``cartflow/clinic/api`` hold the routes and import their schemas from here."""
