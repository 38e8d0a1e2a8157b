"""The portal's rules, one module per area; views call these and stay thin."""
