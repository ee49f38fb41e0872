"""Building blocks every setting's check uses: Kubernetes names, known keys, on/off values, choices."""
