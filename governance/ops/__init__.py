"""Operations: health endpoints for the load balancer and orchestrator, Prometheus metrics."""
