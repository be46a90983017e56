/** The shape of one entry of the config registry (definitions.ts), as Kafka's ConfigDef.ConfigKey. */

export type ConfigType =
  | 'boolean'
  | 'short'
  | 'int'
  | 'long'
  | 'double'
  | 'string'
  | 'list'
  | 'class'
  | 'password';

export interface ConfigDef {
  readonly name: string;
  /** Kafka's ConfigDef.Type; `password` values are sensitive (DescribeConfigs returns null). */
  readonly type: ConfigType;
  /** The default as Kafka writes it (string form); `null` means no default. */
  readonly default: string | null;
  readonly doc: string;
  /** Allowed values for enumerations (for a list type: allowed elements). */
  readonly validValues?: readonly string[];
  /** Inclusive numeric bounds. */
  readonly min?: number;
  readonly max?: number;
}

export interface TopicConfigDef extends ConfigDef {
  /** The broker config whose value is this topic config's default. */
  readonly serverDefault?: string;
}
