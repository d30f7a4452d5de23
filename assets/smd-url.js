/*
 * The one URL sync (layouts/url_state.py): the address bar follows a page's state, so the
 * URL is always a permalink. Called with the state values in the order of `spec.names`,
 * then the page's spec store; writes with history.replaceState (no reload, no history
 * entry per keystroke) and returns the URL it set.
 */
(function () {
    "use strict";

    /* Python's urlencode(safe=":~") (dashapp.timerange.permalink_search): ':' and '~'
       stay readable in a range, space is '+', and !'()* are escaped. */
    function encode(text) {
        return encodeURIComponent(text)
            .replace(/[!'()*]/g, function (c) {
                return "%" + c.charCodeAt(0).toString(16).toUpperCase();
            })
            .replace(/%20/g, "+")
            .replace(/%3A/g, ":");
    }

    function text(value) {
        if (value === null || value === undefined) { return ""; }
        if (Array.isArray(value)) { return value.join(","); }
        return String(value).trim();
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.smd = Object.assign(window.dash_clientside.smd || {}, {
        syncUrl: function () {
            var spec = arguments[arguments.length - 1] || {};
            var names = spec.names || [];
            var defaults = spec.defaults || {};
            var pairs = [];
            for (var i = 0; i < names.length; i++) {
                var name = names[i];
                var value = text(arguments[i]);
                if ((spec.split || []).indexOf(name) !== -1 && value.indexOf(":") > 0) {
                    var at = value.indexOf(":");
                    pairs.push([value.slice(0, at), value.slice(at + 1)]);
                } else if (value !== "" && defaults[name] !== value) {
                    pairs.push([name, value]);
                }
            }
            var opened = new URLSearchParams(window.location.search);
            (spec.keep || []).forEach(function (name) {
                if (opened.get(name)) { pairs.push([name, opened.get(name)]); }
            });
            var search = pairs.map(function (p) { return encode(p[0]) + "=" + encode(p[1]); })
                .join("&");
            var url = window.location.pathname + (search ? "?" + search : "");
            if (url !== window.location.pathname + window.location.search) {
                window.history.replaceState(window.history.state, "", url);
            }
            return url;
        }
    });
})();
