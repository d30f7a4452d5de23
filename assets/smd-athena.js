/*
 * The Athena page's clientside callbacks (pages/athena/callbacks.py): Ctrl+Enter / Cmd+Enter
 * in the editor presses Run, and a new result empties the grid's block cache so the
 * infinite model asks the server for the new query's first page.
 */
(function () {
    "use strict";

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.smd = Object.assign(window.dash_clientside.smd || {}, {
        runOnCtrlEnter: function (editorId, runId) {
            var editor = document.getElementById(editorId);
            if (editor && !editor.dataset.smdRunKey) {
                editor.dataset.smdRunKey = "1";
                editor.addEventListener("keydown", function (event) {
                    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
                        event.preventDefault();
                        var run = document.getElementById(runId);
                        if (run && !run.disabled) { run.click(); }
                    }
                });
            }
            return "Ctrl+Enter or Cmd+Enter runs the query";
        },

        purgeGrid: function (executionId, gridId) {
            if (window.dash_ag_grid && window.dash_ag_grid.getApiAsync) {
                window.dash_ag_grid.getApiAsync(gridId).then(function (api) {
                    api.purgeInfiniteCache();
                }).catch(function () {});
            }
            return executionId ? "Result of " + executionId : "";
        }
    });
})();
