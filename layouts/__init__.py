"""One module per page: `layout(**query)` returns the page's components; ids are constants.

Layout functions and the component builders next to them are pure (plain data in,
components out), so their trees are asserted in unit tests without a browser.
"""
