/*
 * The job detail page's clientside callbacks (pages/job_detail/callbacks.py): the run grid
 * (infinite row model) re-reads its blocks in the browser, through dash-ag-grid's API.
 */
(function () {
    "use strict";

    function withGrid(gridId, use) {
        if (window.dash_ag_grid && window.dash_ag_grid.getApiAsync) {
            window.dash_ag_grid.getApiAsync(gridId).then(use).catch(function () {});
        }
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.smd = Object.assign(window.dash_clientside.smd || {}, {
        /* A new time range: the blocks held are for the old one. */
        purgeRuns: function (value, gridId) {
            withGrid(gridId, function (api) { api.purgeInfiniteCache(); });
            return value || null;
        },

        /* On the refresh timer the grid re-reads the blocks it holds (new runs appear at the
           top, finished ones change state) without losing the scroll position or selection.
           Only when no block is loading: dash-ag-grid hands every response to the newest
           request, so a reload racing a sort or filter change could show the wrong rows. */
        reloadRuns: function (n, gridId) {
            if (n) {
                withGrid(gridId, function (api) {
                    var blocks = Object.values(api.getCacheBlockState() || {});
                    var idle = blocks.length > 0 && blocks.every(function (b) {
                        return b.pageStatus === "loaded";
                    });
                    if (idle) { api.refreshInfiniteCache(); }
                });
            }
            return n || null;
        }
    });
})();
