"""Audits of crawled pages: accessibility, performance, SEO and security (DESIGN §9).

Each HTML page of a crawl that answered 2xx is audited in the crawl's own browser
context, offline, right after it loads (``audit.audit_page``); ``summary`` adds
the pages' audits up for the crawl, and ``crawler.audit_cases`` turns them into
the checks of generated cases.
"""
