(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("facts").textContent);
  var text = document.querySelector(".text");
  var details = document.getElementById("details");
  var ROLES = {
    attribution: "These words attribute the claim to its claimant.",
    hedge: "The article's own caution about this claim.",
    evidence: "This passage is evidence on the claim.",
    time: "These words date the event.",
  };

  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content !== undefined && content !== null) node.textContent = String(content);
    return node;
  }
  function link(path, label) {
    var a = el("a", null, label);
    a.href = data.api + path;
    return a;
  }
  function row(dl, term, value) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(el("dt", null, term));
    var dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
    dl.appendChild(dd);
  }
  function chip(status) {
    var info = data.statuses[status] || { label: status };
    var c = el("span", "chip s-" + status, (data.symbols[status] || "") + " " + info.label);
    c.title = info.definition || "";
    return c;
  }
  function quote(anchor) {
    return anchor ? el("span", "quote", "\u201c" + anchor.exact + "\u201d") : null;
  }
  function names(refs) {
    return refs.map(function (r) { return r.name || r.id; }).join(", ");
  }
  function header(card, kind, extra) {
    var k = el("div", "kind", kind);
    if (extra) k.appendChild(extra);
    card.appendChild(k);
  }
  function apiPath(kind, id) {
    return "/" + kind + "/" + encodeURIComponent(id);
  }

  function claimCard(id, role) {
    var c = data.claims[id];
    var card = el("section", "card claim s-" + c.status);
    header(card, "Claim \u00b7 " + c.kind, chip(c.status));
    if (ROLES[role]) card.appendChild(el("p", "role", ROLES[role]));
    card.appendChild(el("p", "title", c.text));
    var dl = el("dl");
    var who = el("span", null, c.claimant ? c.claimant.name : "");
    if (c.attribution) {
      who.appendChild(document.createTextNode(" \u2014 "));
      who.appendChild(quote(c.attribution));
    }
    row(dl, "Claimant", who);
    var info = data.statuses[c.status] || {};
    row(dl, "Status", (info.label || c.status) + ": " + (info.definition || ""));
    row(dl, "Rationale", c.rationale);
    row(dl, "Hedge", quote(c.hedge));
    row(dl, "Subjects", names(c.subjects));
    row(dl, "Events", c.events.map(function (e) {
      return data.events[e] ? data.events[e].summary : e;
    }).join(" \u00b7 "));
    if (c.evidence && c.evidence.length) {
      var list = el("ul", "evidence");
      c.evidence.forEach(function (ev) {
        var li = el("li");
        var head = el("div");
        head.appendChild(el("span", "stance", ev.stance.replace("_", " ")));
        head.appendChild(document.createTextNode(" " + ev.source + (ev.date ? " (" + ev.date + ")" : "")));
        li.appendChild(head);
        if (ev.summary) li.appendChild(el("div", null, ev.summary));
        if (ev.anchor) li.appendChild(quote(ev.anchor));
        if (ev.url && /^https?:\/\//i.test(ev.url)) {
          var a = el("a", null, ev.url.replace(/^https?:\/\//i, "").slice(0, 60));
          a.href = ev.url;
          a.rel = "noreferrer noopener";
          var div = el("div");
          div.appendChild(a);
          li.appendChild(div);
        }
        list.appendChild(li);
      });
      row(dl, "Evidence", list);
    }
    card.appendChild(dl);
    var links = el("div", "links");
    links.appendChild(link(apiPath("claims", id), "Claim as JSON"));
    card.appendChild(links);
    return card;
  }

  function eventCard(id, role) {
    var e = data.events[id];
    var card = el("section", "card event");
    header(card, "Event \u00b7 " + e.kind + " \u00b7 " + e.modality, chip(e.status));
    if (ROLES[role]) card.appendChild(el("p", "role", ROLES[role]));
    card.appendChild(el("p", "title", e.summary));
    var dl = el("dl");
    if (e.time) {
      var when = e.time.start === e.time.end ? e.time.start : (e.time.start || "\u2026") + " \u2013 " + (e.time.end || "\u2026");
      row(dl, "When", when + " (" + e.time.precision + ")");
      row(dl, "Note", e.time.note);
    }
    row(dl, "Where", e.location ? e.location.name : null);
    row(dl, "Who", e.participants.map(function (p) {
      return (p.entity.name || p.entity.id) + " (" + p.role + ")";
    }).join(", "));
    card.appendChild(dl);
    var links = el("div", "links");
    links.appendChild(link(apiPath("events", id), "Event as JSON"));
    card.appendChild(links);
    return card;
  }

  function entityCard(id) {
    var e = data.entities[id];
    var card = el("section", "card entity");
    header(card, "Entity \u00b7 " + e.kind.replace(/_/g, " "));
    card.appendChild(el("p", "title", e.name));
    var dl = el("dl");
    row(dl, "About", e.description);
    row(dl, "Also", e.aliases.map(function (a) { return a.name; }).join(", "));
    row(dl, "Mentions", e.mentions.length + " in this article");
    card.appendChild(dl);
    var links = el("div", "links");
    links.appendChild(link(apiPath("entities", id), "Entity as JSON"));
    card.appendChild(links);
    return card;
  }

  function mark(cls, key) {
    document.querySelectorAll(".hl." + cls).forEach(function (n) { n.classList.remove(cls); });
    if (!key) return;
    document.querySelectorAll(".hl").forEach(function (n) {
      if (n.dataset.key === key) n.classList.add(cls);
    });
  }
  function hidden(kind) {
    return document.body.classList.contains("hide-" + kind);
  }

  function backButton() {
    var b = el("button", "back", "\u2190 All claims");
    b.type = "button";
    b.addEventListener("click", function () { mark("selected", null); overview(); });
    return b;
  }

  function select(target) {
    var seen = {};
    var cards = [];
    for (var n = target; n; n = n.parentElement && n.parentElement.closest(".hl")) {
      var kind = n.dataset.kind;
      if (hidden(kind)) continue;
      var key = kind + ":" + n.dataset.id;
      if (seen[key]) continue;
      seen[key] = true;
      if (kind === "mention") cards.push(entityCard(n.dataset.id));
      else if (kind === "event" || kind === "time") cards.push(eventCard(n.dataset.id, kind));
      else cards.push(claimCard(n.dataset.id, kind));
    }
    if (!cards.length) return;
    details.replaceChildren(backButton());
    cards.forEach(function (c) { details.appendChild(c); });
    mark("selected", target.dataset.key);
  }

  function overview() {
    details.replaceChildren();
    details.appendChild(el("h2", null, "Claims in this article"));
    var list = el("ul", "overview");
    Object.keys(data.claims).forEach(function (id) {
      var c = data.claims[id];
      var b = el("button");
      b.type = "button";
      b.appendChild(chip(c.status));
      b.appendChild(el("span", null, c.text));
      b.addEventListener("click", function () {
        var first = text.querySelector('.hl.k-claim.first[data-key="claim:' + CSS.escape(id) + '"]');
        if (first) {
          first.scrollIntoView({ block: "center", behavior: "smooth" });
          select(first);
        } else {
          details.replaceChildren(backButton(), claimCard(id, "claim"));
        }
      });
      var li = el("li");
      li.appendChild(b);
      list.appendChild(li);
    });
    details.appendChild(list);
  }

  document.querySelectorAll("[data-toggle]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.body.classList.toggle("hide-" + box.dataset.toggle, !box.checked);
    });
  });
  function visible(node) {
    var n = node && node.closest(".hl");
    while (n && hidden(n.dataset.kind)) n = n.parentElement && n.parentElement.closest(".hl");
    return n;
  }
  text.addEventListener("mouseover", function (e) {
    var h = visible(e.target);
    mark("hover", h ? h.dataset.key : null);
  });
  text.addEventListener("mouseleave", function () { mark("hover", null); });
  text.addEventListener("click", function (e) {
    var h = visible(e.target);
    if (h) select(h);
  });
  text.addEventListener("keydown", function (e) {
    if ((e.key === "Enter" || e.key === " ") && e.target.classList.contains("hl")) {
      e.preventDefault();
      select(e.target);
    }
  });
  overview();
  var wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted) {
    var target = Array.prototype.find.call(
      text.querySelectorAll(".hl.first.k-claim, .hl.first.k-event, .hl.first.k-mention"),
      function (n) { return n.dataset.key === wanted; });
    if (target) {
      target.scrollIntoView({ block: "center" });
      select(target);
    }
  }
})();
