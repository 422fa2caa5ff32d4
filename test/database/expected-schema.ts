/**
 * The schema the migrations give, per engine: table -> column -> type (PostgreSQL's
 * udt_name; SQLite's declared type). Both engines have the same tables and columns.
 */
export const POSTGRES_SCHEMA: Record<string, Record<string, string>> = {
  events: {
    position: 'int8', transaction_id: 'xid8', event_id: 'text', stream_id: 'text', version: 'int4', type: 'text',
    schema_version: 'int4', data: 'jsonb', metadata: 'jsonb', occurred_at: 'text',
  },
  // PostgreSQL only: each stream's version, the append's concurrency check now that the log is partitioned
  stream_heads: { stream_id: 'text', version: 'int4', first_position: 'int8' },
  id_sequences: { name: 'text', value: 'int8' },
  subscription_checkpoints: { name: 'text', position: 'int8', updated_at: 'text', transaction_id: 'xid8' },
  subscription_leases: { name: 'text', owner: 'text', lease_until: 'int8' },
  read_model_versions: { name: 'text', version: 'int4', rebuilt_at: 'text' },
  rm_users: { id: 'int8', name: 'text', email: 'text', role: 'text', created_at: 'text', updated_at: 'text', phone: 'text', slack_member_id: 'text', wecom_user_id: 'text' },
  rm_api_tokens: { token_hash: 'text', token_id: 'int8', user_id: 'int8', created_at: 'text' },
  rm_projects: { id: 'int8', name: 'text', key: 'text', creator_id: 'int8', version: 'int4', created_at: 'text', updated_at: 'text', approval_steps: 'text' },
  rm_project_members: { project_id: 'int8', user_id: 'int8', role: 'text' },
  rm_issues: { id: 'int8', project_id: 'int8', status: 'text', version: 'int4', doc: 'text', created_at: 'text', updated_at: 'text' },
  rm_comments: { id: 'int8', issue_id: 'int8', creator_id: 'int8', content: 'text', created_at: 'text', updated_at: 'text' },
  rm_webhooks: { id: 'int8', project_id: 'int8', config: 'text' },
  rm_im_apps: { project_id: 'int8', type: 'text', config: 'text' },
  webhook_deliveries: {
    id: 'text', webhook_id: 'int8', project_id: 'int8', event_position: 'int8', issue_id: 'int8', activity_type: 'text',
    activity: 'text', status: 'text', attempt_count: 'int4', retry_base: 'int4', next_attempt_at: 'int8', lease_owner: 'text',
    lease_until: 'int8', last_error: 'text', created_at: 'int8', updated_at: 'int8', replay_id: 'text', carried_by: 'text', traceparent: 'text', tracestate: 'text', recipient_id: 'int8',
  },
  webhook_delivery_attempts: {
    delivery_id: 'text', number: 'int4', started_at: 'int8', duration_ms: 'int4', request: 'text', response: 'text',
    error: 'text', verdict: 'text', event_position: 'int8',
  },
  webhook_failures: { webhook_id: 'int8', consecutive: 'int4', last_error: 'text', updated_at: 'int8' },
  herald_instances: { id: 'text', host: 'text', pid: 'int8', started_at: 'int8', heartbeat_at: 'int8' },
  webhook_replays: {
    id: 'text', webhook_id: 'int8', project_id: 'int8', from_position: 'int8', to_position: 'int8', request: 'text', count: 'int4', actor_id: 'int8', created_at: 'int8',
    scanned_to: 'int8', state: 'text', error: 'text', rules: 'text', owner: 'text', updated_at: 'int8',
  },
  webhook_windows: { webhook_id: 'int8', last_sent_at: 'int8' },
  webhook_pace: { key: 'text', sent: 'text', blocked_until: 'int8', updated_at: 'int8' },
  log_checks: { fingerprint: 'text', position: 'int8', transaction_id: 'xid8', event_id: 'text', events: 'int8', checked_at: 'text' },
  read_model_rebuilds: {
    id: 'text', number: 'int8', state: 'text', phase: 'text', done: 'int8', total: 'int8', requested_by: 'text', instance: 'text', started_at: 'text', updated_at: 'text',
    finished_at: 'text', duration_ms: 'int8', error: 'text',
  },
};

export const SQLITE_SCHEMA: Record<string, Record<string, string>> = {
  events: {
    position: 'INTEGER', event_id: 'TEXT', stream_id: 'TEXT', version: 'INTEGER', type: 'TEXT', schema_version: 'INTEGER',
    data: 'TEXT', metadata: 'TEXT', occurred_at: 'TEXT',
    // no transaction_id: a single SQLite writer commits positions in order
  },
  id_sequences: { name: 'TEXT', value: 'INTEGER' },
  subscription_checkpoints: { name: 'TEXT', position: 'INTEGER', updated_at: 'TEXT', transaction_id: 'TEXT' },
  subscription_leases: { name: 'TEXT', owner: 'TEXT', lease_until: 'INTEGER' },
  read_model_versions: { name: 'TEXT', version: 'INTEGER', rebuilt_at: 'TEXT' },
  rm_users: { id: 'INTEGER', name: 'TEXT', email: 'TEXT', role: 'TEXT', created_at: 'TEXT', updated_at: 'TEXT', phone: 'TEXT', slack_member_id: 'TEXT', wecom_user_id: 'TEXT' },
  rm_api_tokens: { token_hash: 'TEXT', token_id: 'INTEGER', user_id: 'INTEGER', created_at: 'TEXT' },
  rm_projects: { id: 'INTEGER', name: 'TEXT', key: 'TEXT', creator_id: 'INTEGER', version: 'INTEGER', created_at: 'TEXT', updated_at: 'TEXT', approval_steps: 'TEXT' },
  rm_project_members: { project_id: 'INTEGER', user_id: 'INTEGER', role: 'TEXT' },
  rm_issues: { id: 'INTEGER', project_id: 'INTEGER', status: 'TEXT', version: 'INTEGER', doc: 'TEXT', created_at: 'TEXT', updated_at: 'TEXT' },
  rm_comments: { id: 'INTEGER', issue_id: 'INTEGER', creator_id: 'INTEGER', content: 'TEXT', created_at: 'TEXT', updated_at: 'TEXT' },
  rm_webhooks: { id: 'INTEGER', project_id: 'INTEGER', config: 'TEXT' },
  rm_im_apps: { project_id: 'INTEGER', type: 'TEXT', config: 'TEXT' },
  webhook_deliveries: {
    id: 'TEXT', webhook_id: 'INTEGER', project_id: 'INTEGER', event_position: 'INTEGER', issue_id: 'INTEGER', activity_type: 'TEXT',
    activity: 'TEXT', status: 'TEXT', attempt_count: 'INTEGER', retry_base: 'INTEGER', next_attempt_at: 'INTEGER', lease_owner: 'TEXT',
    lease_until: 'INTEGER', last_error: 'TEXT', created_at: 'INTEGER', updated_at: 'INTEGER', replay_id: 'TEXT', carried_by: 'TEXT', traceparent: 'TEXT', tracestate: 'TEXT', recipient_id: 'INTEGER',
  },
  webhook_delivery_attempts: {
    delivery_id: 'TEXT', number: 'INTEGER', started_at: 'INTEGER', duration_ms: 'INTEGER', request: 'TEXT', response: 'TEXT',
    error: 'TEXT', verdict: 'TEXT', event_position: 'INTEGER',
  },
  webhook_failures: { webhook_id: 'INTEGER', consecutive: 'INTEGER', last_error: 'TEXT', updated_at: 'INTEGER' },
  herald_instances: { id: 'TEXT', host: 'TEXT', pid: 'INTEGER', started_at: 'INTEGER', heartbeat_at: 'INTEGER' },
  webhook_replays: {
    id: 'TEXT', webhook_id: 'INTEGER', project_id: 'INTEGER', from_position: 'INTEGER', to_position: 'INTEGER', request: 'TEXT', count: 'INTEGER', actor_id: 'INTEGER', created_at: 'INTEGER',
    scanned_to: 'INTEGER', state: 'TEXT', error: 'TEXT', rules: 'TEXT', owner: 'TEXT', updated_at: 'INTEGER',
  },
  webhook_windows: { webhook_id: 'INTEGER', last_sent_at: 'INTEGER' },
  webhook_pace: { key: 'TEXT', sent: 'TEXT', blocked_until: 'INTEGER', updated_at: 'INTEGER' },
  log_checks: { fingerprint: 'TEXT', position: 'INTEGER', transaction_id: 'TEXT', event_id: 'TEXT', events: 'INTEGER', checked_at: 'TEXT' },
  read_model_rebuilds: {
    id: 'TEXT', number: 'INTEGER', state: 'TEXT', phase: 'TEXT', done: 'INTEGER', total: 'INTEGER', requested_by: 'TEXT', instance: 'TEXT', started_at: 'TEXT', updated_at: 'TEXT',
    finished_at: 'TEXT', duration_ms: 'INTEGER', error: 'TEXT',
  },
};
