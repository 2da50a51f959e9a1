// Pure functions that apply _config to the sources. Each is the identity when _config holds the
// defaults found in the sources, which mixin/tests checks by comparing the output with the sources.
local found = (import '../src/sources.libsonnet').found;

local replace(s, from, to) =
  if from == null || to == null || from == to then s
  else std.strReplace(s, from, to);

// Applies f(key, value) to every field of every object, depth first; strings under arrays get key null.
local walk(v, f) =
  if std.isObject(v) then { [k]: walk(f(k, v[k]), f) for k in std.objectFields(v) }
  else if std.isArray(v) then [walk(x, f) for x in v]
  else v;

local changedDatasources(cfg) = [
  t
  for t in std.objectFields(cfg.datasources)
  if std.objectHas(found.datasources, t) && found.datasources[t] != cfg.datasources[t]
];

{
  replace:: replace,

  // One rule of a group.
  rule(r, cfg)::
    local withExpr =
      if std.isString(std.get(r, 'expr')) then r { expr: replace(r.expr, found.jobSelector, cfg.jobSelector) } else r;
    if !std.objectHas(r, 'alert') then withExpr
    else
      local annotations =
        if std.objectHas(r, 'annotations') then {
          annotations: {
            [k]: replace(replace(r.annotations[k], found.runbookURLBase, cfg.runbookURLBase),
                         found.grafanaURL, cfg.grafanaURL)
            for k in std.objectFields(r.annotations)
          },
        } else {};
      local labels = if std.length(cfg.alertLabels) > 0 then { labels: std.get(r, 'labels', {}) + cfg.alertLabels } else {};
      withExpr + annotations + labels + std.get(cfg.alertOverrides, r.alert, {}),

  group(g, cfg):: g { rules: [$.rule(r, cfg) for r in g.rules] },

  hasAlerts(g):: std.length([r for r in g.rules if std.objectHas(r, 'alert')]) > 0,

  // One dashboard: any string that is a default datasource's uid or name becomes _config's (variables'
  // current values, fixed references, panel options naming a datasource), and the base URLs are replaced.
  dashboard(d, cfg)::
    local types = changedDatasources(cfg);
    local uids = { [found.datasources[t].uid]: cfg.datasources[t].uid for t in types };
    local names = { [found.datasources[t].name]: cfg.datasources[t].name for t in types };
    local urlsChanged = found.runbookURLBase != cfg.runbookURLBase || found.grafanaURL != cfg.grafanaURL;
    if std.length(types) == 0 && !urlsChanged then d
    else walk(d, function(k, v)
      if !std.isString(v) then v
      else if std.objectHas(uids, v) then uids[v]
      else if std.objectHas(names, v) then names[v]
      else if urlsChanged then replace(replace(v, found.runbookURLBase, cfg.runbookURLBase), found.grafanaURL, cfg.grafanaURL)
      else v),
}
