"""The app's stylesheets (.tcss); a package so that installs carry them."""
