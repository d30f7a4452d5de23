/*
 * Client-side navigation for the shell's links (<a data-smd-link>).
 *
 * The navbar uses real <a> elements (so they can carry aria-current) instead of
 * dcc.Link; this does what dcc.Link does on a plain click: push the new URL and
 * tell Dash's dcc.Location components, with no page reload. Modified clicks
 * (new tab, new window) and other origins keep the browser's behaviour. Focus
 * moves to <main> so keyboard and screen-reader users land on the new page.
 */
(function () {
    "use strict";
    document.addEventListener("click", function (event) {
        if (event.defaultPrevented || event.button !== 0 ||
            event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
            return;
        }
        var link = event.target instanceof Element ? event.target.closest("a[data-smd-link]") : null;
        if (!link || (link.target && link.target !== "_self") ||
            link.origin !== window.location.origin) {
            return;
        }
        event.preventDefault();
        if (link.pathname + link.search !== window.location.pathname + window.location.search) {
            window.history.pushState({}, "", link.href);
            window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
        }
        window.scrollTo(0, 0);
        var main = document.getElementById("main-content");
        if (main) {
            main.focus({preventScroll: true});
        }
    });
})();
