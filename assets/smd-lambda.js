/*
 * The Lambda monitor's clientside callback (callbacks/lambda_monitor.py): the address bar
 * follows the view (range, function, comparison, metric), so the URL is a permalink.
 */
(function () {
    "use strict";

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.smd = Object.assign(window.dash_clientside.smd || {}, {
        /* `defaults` (the page's store) names what the link leaves out. */
        lambdaUrl: function (range, fn, compare, metric, defaults) {
            var params = new URLSearchParams();
            if (range && range !== (defaults || {}).range) { params.set("range", range); }
            if (fn) { params.set("fn", fn); }
            if (compare && compare.length) { params.set("compare", compare.join(",")); }
            if (metric && metric !== "invocations") { params.set("metric", metric); }
            var search = params.toString();
            var url = window.location.pathname + (search ? "?" + search : "");
            if (url !== window.location.pathname + window.location.search) {
                window.history.replaceState(window.history.state, "", url);
            }
            return url;
        }
    });
})();
