"""Method 4, pod level: a transform adding the pull Secret to pod specs, and one warning about uncovered images."""
