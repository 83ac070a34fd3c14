"""The engine: executor, worker, sensors and the services that move executions forward."""
