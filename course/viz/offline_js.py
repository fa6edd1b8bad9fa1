"""bertviz without the internet: a small JavaScript stand-in for the d3/jQuery/require.js it loads.

Stock bertviz emits ``<script src="https://cdnjs.cloudflare.com/.../require.min.js">`` and asks
require.js for d3 5.7 and jQuery 2.0 from the same CDN. Offline (a classroom behind a firewall, CI)
nothing loads: Chromium shows a blank view and JupyterLab 4 shows "require is not defined".

No installed dependency ships standalone copies of those libraries, and the course does not commit
third-party JavaScript, so ``SHIM_JS`` below is our own: the ~20 calls that bertviz's head_view.js
and model_view.js make (d3 v5 selections with data joins, ``scaleOrdinal``, ``schemeCategory10``,
``hsl``, ``min``; jQuery's ``$(sel)``, ``val``, ``text``, ``append``, ``on``, ``empty``, ``attr``),
with d3 v5's semantics (listeners get ``(datum, index)``; indices count within a group).

``offline_html(bertviz_html)`` rewrites bertviz's own output (``html_action='return'``): it drops
the CDN tag, replaces ``require.config`` + ``requirejs([...], fn)`` with a call into the shim, and
waits until the view's ``<div>`` is in the page before drawing (JupyterLab inserts outputs late).
The shim is ~6 KB, so every view carries it, guarded so that it is defined once per page: a view
still renders when the cell that ran first was cleared or re-run out of order.
"""

from __future__ import annotations

import html as html_lib
import re

SHIM_VERSION = "1"

SHIM_JS = r"""
(function () {
  if (window.courseBertvizLite && window.courseBertvizLite.version === "%(version)s") return;
  var SVG_NS = "http://www.w3.org/2000/svg";

  // ---------------------------------------------------------------- d3 (v5 subset)
  function creator(name, parent) {
    var local = name.indexOf(":") >= 0 ? name.split(":")[1] : name;
    var svg = name.indexOf("svg:") === 0 || local === "svg" || (parent && parent.namespaceURI === SVG_NS);
    return svg ? document.createElementNS(SVG_NS, local) : document.createElement(local);
  }
  function Selection(groups, parents) { this._groups = groups; this._parents = parents; }
  function EnterNode(parent, datum) { this._parent = parent; this.__data__ = datum; }
  function valueOf(value, node, i, group) {
    return typeof value === "function" ? value.call(node, node.__data__, i, group) : value;
  }
  Selection.prototype = {
    each: function (fn) {
      this._groups.forEach(function (group) {
        group.forEach(function (node, i) { if (node) fn.call(node, node.__data__, i, group); });
      });
      return this;
    },
    node: function () {
      for (var g = 0; g < this._groups.length; g++)
        for (var i = 0; i < this._groups[g].length; i++) if (this._groups[g][i]) return this._groups[g][i];
      return null;
    },
    empty: function () { return !this.node(); },
    select: function (selector) {
      var groups = this._groups.map(function (group) {
        return group.map(function (node) {
          var sub = node && node.querySelector ? node.querySelector(selector) : null;
          if (sub && "__data__" in node) sub.__data__ = node.__data__;  // d3: select propagates data
          return sub;
        });
      });
      return new Selection(groups, this._parents);
    },
    selectAll: function (selector) {
      var groups = [], parents = [];
      this._groups.forEach(function (group) {
        group.forEach(function (node) {
          if (!node || !node.querySelectorAll) return;
          groups.push(Array.prototype.slice.call(node.querySelectorAll(selector)));
          parents.push(node);
        });
      });
      return new Selection(groups, parents);
    },
    data: function (value) {
      // Join by index (bertviz passes no key): update = existing nodes, enter = missing ones.
      var update = [], enter = [], exit = [], parents = this._parents;
      this._groups.forEach(function (group, j) {
        var parent = parents[j];
        var data = typeof value === "function" ? value.call(parent, parent && parent.__data__, j, parents) : value;
        data = Array.prototype.slice.call(data);
        var up = new Array(data.length), en = new Array(data.length), ex = [];
        for (var i = 0; i < data.length; i++) {
          if (i < group.length && group[i]) { group[i].__data__ = data[i]; up[i] = group[i]; }
          else en[i] = new EnterNode(parent, data[i]);
        }
        for (var k = data.length; k < group.length; k++) ex.push(group[k]);
        update.push(up); enter.push(en); exit.push(ex);
      });
      var result = new Selection(update, parents);
      result._enter = new Selection(enter, parents);
      result._exit = new Selection(exit, parents);
      return result;
    },
    enter: function () { return this._enter || new Selection(this._groups.map(function () { return []; }), this._parents); },
    exit: function () { return this._exit || new Selection(this._groups.map(function () { return []; }), this._parents); },
    append: function (name) {
      var groups = this._groups.map(function (group) {
        return group.map(function (node) {
          if (!node) return null;
          var parent = node instanceof EnterNode ? node._parent : node;
          var child = creator(name, parent);
          parent.appendChild(child);
          if ("__data__" in node) child.__data__ = node.__data__;
          return child;
        });
      });
      return new Selection(groups, this._parents);
    },
    attr: function (name, value) {
      if (arguments.length < 2) { var n = this.node(); return n ? n.getAttribute(name) : null; }
      return this.each(function (d, i, group) {
        var v = valueOf(value, this, i, group);
        if (v === null || v === undefined) this.removeAttribute(name); else this.setAttribute(name, String(v));
      });
    },
    style: function (name, value) {
      return this.each(function (d, i, group) {
        var v = valueOf(value, this, i, group);
        if (v === null || v === undefined) this.style.removeProperty(name); else this.style.setProperty(name, String(v));
      });
    },
    classed: function (names, value) {
      var list = names.trim().split(/\s+/);
      return this.each(function (d, i, group) {
        var on = valueOf(value, this, i, group), node = this;
        list.forEach(function (c) { node.classList.toggle(c, !!on); });
      });
    },
    text: function (value) {
      if (arguments.length < 1) { var n = this.node(); return n ? n.textContent : null; }
      return this.each(function (d, i, group) {
        var v = valueOf(value, this, i, group);
        this.textContent = v === null || v === undefined ? "" : v;
      });
    },
    on: function (type, listener) {
      return this.each(function (d, i, group) {
        var node = this, store = node.__courseOn || (node.__courseOn = {});
        if (store[type]) node.removeEventListener(type, store[type]);
        if (!listener) { delete store[type]; return; }
        store[type] = function (event) {
          d3.event = event;  // d3 v5 exposes the current event as d3.event
          try { listener.call(node, node.__data__, i, group); } finally { d3.event = null; }
        };
        node.addEventListener(type, store[type]);
      });
    },
    remove: function () {
      return this.each(function () { if (this.parentNode) this.parentNode.removeChild(this); });
    }
  };
  function rgbOf(color) {
    var m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(String(color).trim());
    if (m) return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
    m = /^rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$/i.exec(String(color).trim());
    if (m) return [+m[1], +m[2], +m[3]];
    return [0, 0, 0];
  }
  function Hsl(h, s, l) { this.h = h; this.s = s; this.l = l; }
  Hsl.prototype.toString = function () {
    // HSL -> RGB (CSS Color 4 formula), clamped, printed as rgb(r, g, b)
    var h = ((this.h %% 360) + 360) %% 360, s = Math.max(0, Math.min(1, this.s)), l = Math.max(0, Math.min(1, this.l));
    var a = s * Math.min(l, 1 - l);
    function f(n) { var k = (n + h / 30) %% 12; return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)); }
    return "rgb(" + [f(0), f(8), f(4)].map(function (x) { return Math.round(x * 255); }).join(", ") + ")";
  };
  var d3 = {
    version: "course-shim-%(version)s",
    event: null,
    schemeCategory10: ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"],
    select: function (target) {
      var node = typeof target === "string" ? document.querySelector(target) : target;
      return new Selection([[node]], [document.documentElement]);
    },
    selectAll: function (target) {
      var nodes = typeof target === "string" ? Array.prototype.slice.call(document.querySelectorAll(target)) : target;
      return new Selection([nodes], [document.documentElement]);
    },
    min: function (values, accessor) {
      var best;
      Array.prototype.forEach.call(values, function (v, i) {
        var x = accessor ? accessor(v, i, values) : v;
        if (x !== null && x !== undefined && (best === undefined || x < best)) best = x;
      });
      return best;
    },
    scaleOrdinal: function (range) {
      // d3's implicit domain: each new input takes the next colour, cycling through the range.
      var index = new Map();
      return function (x) {
        if (!index.has(x)) index.set(x, index.size);
        return range[index.get(x) %% range.length];
      };
    },
    hsl: function (color) {
      var rgb = rgbOf(color).map(function (v) { return v / 255; });
      var max = Math.max.apply(null, rgb), min = Math.min.apply(null, rgb), l = (max + min) / 2, h = 0, s = 0;
      if (max !== min) {
        var d = max - min;
        s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
        if (max === rgb[0]) h = (rgb[1] - rgb[2]) / d + (rgb[1] < rgb[2] ? 6 : 0);
        else if (max === rgb[1]) h = (rgb[2] - rgb[0]) / d + 2;
        else h = (rgb[0] - rgb[1]) / d + 4;
        h *= 60;
      }
      return new Hsl(h, s, l);
    }
  };

  // ---------------------------------------------------------------- jQuery (the few calls bertviz makes)
  function Query(nodes) { this.nodes = nodes; this.length = nodes.length; }
  Query.prototype = {
    append: function (child) {
      var nodes = child instanceof Query ? child.nodes : [child];
      this.nodes.forEach(function (parent, p) {
        nodes.forEach(function (n) { parent.appendChild(p === 0 ? n : n.cloneNode(true)); });
      });
      return this;
    },
    val: function (v) {
      if (arguments.length < 1) return this.nodes.length ? this.nodes[0].value : undefined;
      this.nodes.forEach(function (n) { n.value = v; if (n.tagName === "OPTION") n.setAttribute("value", v); });
      return this;
    },
    text: function (v) {
      if (arguments.length < 1) return this.nodes.map(function (n) { return n.textContent; }).join("");
      this.nodes.forEach(function (n) { n.textContent = v; });
      return this;
    },
    attr: function (name, v) {
      if (arguments.length < 2) return this.nodes.length ? this.nodes[0].getAttribute(name) : undefined;
      this.nodes.forEach(function (n) { n.setAttribute(name, v); });
      return this;
    },
    on: function (type, fn) {
      this.nodes.forEach(function (n) { n.addEventListener(type, function (e) { return fn.call(n, e); }); });
      return this;
    },
    change: function () {
      this.nodes.forEach(function (n) { n.dispatchEvent(new Event("change", { bubbles: true })); });
      return this;
    },
    empty: function () {
      this.nodes.forEach(function (n) { while (n.firstChild) n.removeChild(n.firstChild); });
      return this;
    }
  };
  function $(target) {
    if (target instanceof Query) return target;
    if (typeof target === "string") {
      var tag = /^\s*<([a-zA-Z][\w-]*)\s*\/?>\s*(<\/\1>)?\s*$/.exec(target);
      if (tag) return new Query([document.createElement(tag[1])]);
      return new Query(Array.prototype.slice.call(document.querySelectorAll(target)));
    }
    return new Query(target ? [target] : []);
  }

  // ---------------------------------------------------------------- running a view
  function run(rootId, draw) {
    var tries = 0;
    (function attempt() {
      var root = document.getElementById(rootId);
      if (!root) {  // outputs can be inserted into the page after their scripts run: wait a little
        if (++tries < 200) setTimeout(attempt, 25);
        return;
      }
      try {
        draw($, d3);
        root.setAttribute("data-course-rendered", "1");
        var fallback = document.getElementById(rootId + "-fallback");
        if (fallback) fallback.style.display = "none";
      } catch (error) {
        root.setAttribute("data-course-rendered", "error");
        var note = document.createElement("pre");
        note.textContent = "The interactive attention view failed (" + error + "); the static heatmap below shows the same weights.";
        root.appendChild(note);
        if (window.console) console.error(error);
      }
    })();
  }
  window.courseBertvizLite = { version: "%(version)s", d3: d3, $: $, run: run };
})();
""" % {"version": SHIM_VERSION}

_CDN_TAG = re.compile(
    r"<script[^>]*src=\"https?://[^\"]*require[^\"]*\"[^>]*>\s*</script>", re.IGNORECASE
)
_REQUIRE_CONFIG = re.compile(r"require\.config\(\{[\s\S]*?\}\);")
_REQUIREJS_CALL = re.compile(
    r"requirejs\(\s*\[\s*'jquery'\s*,\s*'d3'\s*\]\s*,\s*function\s*\(\s*\$\s*,\s*d3\s*\)\s*\{"
)
_ROOT_ID = re.compile(r"id=\"(bertviz-[0-9a-f]+)\"")


class UnsupportedBertvizHTML(ValueError):
    """bertviz's output no longer has the shape this rewrite expects (a newer bertviz?)."""


def offline_html(bertviz_html: str, fallback_html: str = "") -> str:
    """bertviz's HTML (``html_action='return'``) made to render with no network.

    ``fallback_html`` (e.g. an ``<img>`` of the matplotlib heatmaps) is shown where JavaScript does
    not run (an untrusted notebook, GitHub's viewer); the script hides it once the view is drawn."""
    match = _ROOT_ID.search(bertviz_html)
    if not match:
        raise UnsupportedBertvizHTML("no bertviz-<id> div in bertviz's output")
    root_id = match.group(1)
    text, removed = _CDN_TAG.subn("", bertviz_html)
    text, configs = _REQUIRE_CONFIG.subn("", text)
    text, calls = _REQUIREJS_CALL.subn(
        f"window.courseBertvizLite.run({root_id!r}, function ($, d3) {{", text
    )
    if removed != 1 or configs != 1 or calls != 1:
        raise UnsupportedBertvizHTML(
            f"expected one CDN tag, one require.config and one requirejs call; "
            f"found {removed}, {configs}, {calls}"
        )
    if "cdnjs" in text or re.search(r"src=[\"']?https?:", text):
        raise UnsupportedBertvizHTML("bertviz's output still refers to a remote URL")
    fallback = (
        f'<div id="{root_id}-fallback" class="course-attention-fallback">{fallback_html}</div>'
        if fallback_html
        else ""
    )
    # The fallback comes first so that it exists when the view's script runs and hides it.
    return f'{fallback}\n<script type="text/javascript">{SHIM_JS}</script>\n{text}'


def image_tag(png: bytes, alt: str) -> str:
    """An inline ``<img>`` (base64 PNG) for the no-JavaScript fallback."""
    import base64

    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html_lib.escape(alt)}" src="data:image/png;base64,{data}" style="max-width:100%"/>'
