/*
 * The log viewer's clientside callbacks (pages/logs/callbacks.py): auto-scroll, jump to a line,
 * pause, and the address bar kept as a permalink. They touch only the page, so they run
 * in the browser with no round trip.
 */
(function () {
    "use strict";

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.smd = Object.assign(window.dash_clientside.smd || {}, {
        logsScroll: function (view, paused, linesId) {
            var box = document.getElementById(linesId);
            if (box && !paused) { box.scrollTop = box.scrollHeight; }
            return window.dash_clientside.no_update;
        },

        logsJump: function (target) {
            if (!target) { return window.dash_clientside.no_update; }
            var tries = 0;
            function go() {
                var el = document.getElementById(target);
                if (!el) { if (tries++ < 40) { setTimeout(go, 50); } return; }
                el.classList.add("smd-log-line--target");
                el.scrollIntoView({block: "center"});
                el.focus({preventScroll: true});
            }
            setTimeout(go, 100);  /* after any pending auto-scroll of the same update */
            return true;  /* pause auto-scroll, so new lines do not carry the error away */
        },

        logsPause: function (nClicks, paused) {
            if (!nClicks) { return window.dash_clientside.no_update; }
            return !paused;
        },

        logsPauseLabel: function (paused) {
            return [paused ? "true" : "false",
                    paused ? "btn btn-sm btn-secondary" : "btn btn-sm btn-outline-secondary"];
        }
    });
})();
