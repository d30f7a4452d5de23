/*
 * The shell's clientside callbacks (callbacks/shell.py) and the applied-theme reader the
 * chart pages share (pages/job_detail/callbacks.py, pages/lambda_monitor/callbacks.py), in the
 * `smd` namespace Dash calls through ClientsideFunction. The theme lives in the browser
 * (<html data-bs-theme>), so switching it never waits for the server.
 */
(function () {
    "use strict";

    function appliedTheme() {
        return document.documentElement.getAttribute("data-bs-theme") === "dark" ? "dark" : "light";
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.smd = Object.assign(window.dash_clientside.smd || {}, {
        /* Kiosk pages (the wall) hide the header and mark <html> so their stylesheet
           applies (assets/smd-overview.css); leaving the page restores both. */
        kiosk: function (pathname, paths) {
            var here = "/" + String(pathname || "/").replace(/^\/+|\/+$/g, "");
            var kiosk = (paths || []).indexOf(here) !== -1;
            document.documentElement.classList.toggle("smd-kiosk", kiosk);
            document.documentElement.classList.toggle("smd-wall", kiosk);
            return kiosk;
        },

        toggleTheme: function (nClicks) {
            if (!nClicks) { return window.dash_clientside.no_update; }
            return appliedTheme() === "dark" ? "light" : "dark";
        },

        /* An empty stored choice follows the theme already applied (the system's, set by
           the pre-paint script); the toggle's own classes are kept, "active" follows dark. */
        applyTheme: function (stored, className) {
            var root = document.documentElement;
            var theme = (stored === "dark" || stored === "light") ? stored : appliedTheme();
            root.setAttribute("data-bs-theme", theme);
            var dark = theme === "dark";
            var classes = String(className || "").split(/\s+/).filter(function (c) {
                return c && c !== "active";
            });
            if (dark) { classes.push("active"); }
            return [dark ? "true" : "false", classes.join(" ")];
        },

        /* The theme in effect, whatever the stored choice: the charts are drawn for it. */
        appliedTheme: function () {
            return appliedTheme();
        }
    });
})();
