"""Loopback emulators of the Shopify Admin GraphQL API, Amazon SP-API and NetSuite REST.

An independent reading of the vendors' APIs (never imports ``adapters``, ``cache``,
``audit`` or ``tui``) that serves ``sample_data`` scenarios or generated bulk data on
127.0.0.1, with each platform's auth, paging, rate limits and injected faults.
"""
