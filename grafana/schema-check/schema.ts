// The dashboard JSON shapes of the pinned Grafana (12.4.3), from its published types in
// @grafana/schema. grafana/test/schema_check.py turns each dashboard into object literals typed
// with these, so `tsc --strict` refuses a wrong type, a missing required option and, through
// TypeScript's excess property checks, any key the schema does not know.
//
// Only three things are not taken as published, each for the reason given beside it.
import type { AnnotationQuery, AnnotationTarget, Dashboard, DataQuery, FieldConfig, MatcherConfig, Panel, RowPanel, VariableModel } from '@grafana/schema';
import type * as common from '@grafana/schema';

export type * as BarGauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
export type * as Gauge from '@grafana/schema/dist/esm/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen';
export type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
export type * as StateTimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
export type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
export type * as Text from '@grafana/schema/dist/esm/raw/composable/text/panelcfg/x/TextPanelCfg_types.gen';
export type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/**
 * A value as JSON holds it. The schema's enums are TypeScript enums (`TableCellDisplayMode.Auto`),
 * which no string literal is assignable to; JSON holds their values ("auto"). Template literal
 * types turn each string enum into the union of its values; numbers, booleans and plain strings
 * stay as they are, so nothing else is loosened.
 */
export type Json<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? Array<Json<U>>
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : T;

/**
 * A panel or field link. The schema types `Panel.links` as DashboardLink (the dashboard link bar's
 * shape, with icon, tags, asDropdown...), but Grafana reads panel and field links as data links;
 * this is the DataLink of the same package's v2 dashboard schema (schema/dashboard/v2beta1).
 */
export interface DataLink {
  title: string;
  url: string;
  targetBlank?: boolean;
}

/** Field config with the panel type's own `custom` options (the published veneer allows any key there). */
export type FieldDefaults<F> = Omit<FieldConfig, 'custom' | 'links'> & { custom?: F; links?: DataLink[] };

export interface Override {
  matcher: MatcherConfig;
  properties: Array<{ id: string; value?: unknown }>;
}

/** A panel whose options and field config are its panel type's. */
export type PanelOf<O, F> = Json<Omit<Panel, 'options' | 'fieldConfig' | 'links'>> & {
  options: Json<O>;
  fieldConfig?: { defaults: Json<FieldDefaults<F>>; overrides: Json<Override[]> };
  links?: DataLink[];
};

/**
 * One override's properties as an object (`{"id": "custom.width", "value": 80}` becomes
 * `{custom: {width: 80}}`), so that the override ids and values are checked too.
 */
export type OverrideOf<F> = Json<Partial<FieldDefaults<Partial<F>>>>;

/** Panel types without field options of their own (stat, gauge, bargauge): `custom` must stay empty. */
export type NoCustom = Record<string, never>;

export type RowPanelJson = Json<Omit<RowPanel, 'panels'>> & { panels: unknown[] };

/**
 * Options a Prometheus annotation keeps beside its target: @grafana/schema's AnnotationQuery has
 * no room for them, but Grafana's Prometheus datasource reads them (grafana-prometheus
 * src/annotations.ts and components/AnnotationQueryEditor.tsx).
 */
export interface PrometheusAnnotationOptions {
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
}

/**
 * A datasource query. @grafana/schema 12.4.3 publishes no query type for Prometheus or
 * PostgreSQL, so beyond DataQuery's own keys these stay open; the project's checks read them.
 */
export type QueryJson = Json<DataQuery> & Record<string, unknown>;

/** An annotation: the built-in Grafana annotations by tag (AnnotationTarget) or a datasource query. */
export type AnnotationJson = Json<Omit<AnnotationQuery, 'target'>> &
  PrometheusAnnotationOptions & { target?: Json<AnnotationTarget> | QueryJson };

/** The dashboard without its panels, which are checked one by one. */
export type DashboardJson = Json<Omit<Dashboard, 'panels' | 'templating' | 'annotations'>> & {
  templating?: { list?: Array<Json<VariableModel>> };
  annotations?: { list?: AnnotationJson[] };
};

/**
 * Options of the alert list panel, which @grafana/schema 12.4.3 does not publish (it has no
 * panelcfg for it): transcribed from Grafana's public/app/plugins/panel/alertlist/types.ts
 * (UnifiedAlertListOptions) and its BigValueColorMode, ThresholdsConfig and ValueMapping.
 */
export interface AlertListOptions {
  maxItems: number;
  sortOrder: 1 | 2 | 3 | 4 | 5;
  dashboardAlerts: boolean;
  groupMode: 'default' | 'custom';
  groupBy: string[];
  alertName: string;
  showInstances: boolean;
  folder?: { uid: string; title: string };
  stateFilter: {
    firing: boolean;
    pending: boolean;
    inactive?: boolean;
    recovering?: boolean;
    noData: boolean;
    normal: boolean;
    error: boolean;
  };
  alertInstanceLabelFilter: string;
  datasource: string;
  viewMode?: 'list' | 'stat';
  showInactiveAlerts?: boolean;
  statColorMode?: Json<common.BigValueColorMode>;
  statThresholds?: Json<common.ThresholdsConfig>;
  statValueMappings?: Json<common.ValueMapping[]>;
}

/**
 * Options of the alert groups panel, likewise unpublished in 12.4.3: transcribed from Grafana's
 * public/app/plugins/panel/alertGroups/panelcfg.gen.ts.
 */
export interface AlertGroupsOptions {
  /** Name of the alertmanager used as a source for alerts */
  alertmanager: string;
  /** Expand all alert groups by default */
  expandAll: boolean;
  /** Comma-separated list of values used to filter alert results */
  labels: string;
}
