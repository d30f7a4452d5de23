"""The CSV export API's pure side: parameters (`params`), cells and streaming (`cells`).

Exports read through `dashapp.queries` like the pages do; nothing here touches
the database or Flask (`dashapp/web/export.py` wires it to HTTP).
"""
