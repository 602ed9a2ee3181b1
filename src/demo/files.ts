// The configuration a demo installation runs with: one runbook, its targets and a small on-call rota, all
// pointing at the pretend order system. Written into the demo's own data dir on every start, so a demo never
// reads or changes config/ or runbooks/ of a real installation.
import fs from 'node:fs';
import path from 'node:path';

export const DEMO_RUNBOOK_ID = 'demo-order-db-outage';
export const DEMO_DECISION_STEP = 'strategy';
/** Environment variables the demo's targets and runbook refer to; the demo sets them for its worker. */
export const DEMO_ORDERS_URL_VAR = 'DEMO_ORDERS_URL';
export const DEMO_HMAC_VAR = 'DEMO_ORDERS_HMAC_SECRET';

const RUNBOOK = `# DEMO runbook, written by \`fireline demo\` (src/demo/files.ts); edits here are overwritten on the next start.
# It follows runbooks/order-db-outage.yaml, shortened, against the demo's pretend order system at
# \${${DEMO_ORDERS_URL_VAR}}: its database answers unhealthy until Fireline fails over or restores it.
id: ${DEMO_RUNBOOK_ID}
title: "Demo: order database outage"
owner: team-orders-demo
service: demo-orders-db
escalation: demo-orders
risk: { likelihood: likely, impact: severe }
description: >-
  DEMO. The pretend order database's primary is down. Fireline probes it, pages the demo on-call into the
  outbox, asks the commander to fail over or restore, carries that out with signed requests, proves the
  order API is healthy again, takes a restore-checked backup and drafts the post-mortem.

compensations:
  failback:
    title: Point the demo order service back at the original primary
    http:
      method: POST
      url: "\${${DEMO_ORDERS_URL_VAR}}/failback"
      secret: demo-orders-hmac
      body: { incident: "\${incident.id}" }

phases:
  detect:
    - id: probe-order-api
      kind: verify
      title: Probe the order API (fails while the primary is down)
      check: { http: { url: "\${${DEMO_ORDERS_URL_VAR}}/health", expect: 200 } }
      onFailure: continue

  report:
    # In the background: the runbook goes on to the decision while the on-call is paged level by level.
    - id: page-on-call
      kind: page
      title: Page the demo on-call (lands in the outbox)
      wait: none
    - id: announce
      kind: notify
      via: slack
      to: "#incidents"
      message: >-
        [DEMO] \${incident.severity} \${incident.id}: \${incident.title}. Commander: fail over to the replica or
        restore from backup? Without an answer in 15 minutes Fireline fails over.

  decide:
    - id: ${DEMO_DECISION_STEP}
      kind: decide
      prompt: Fail over to the streaming replica (minutes) or restore the latest backup (slower, for damaged data)?
      options: [failover, restore]
      # The faster way back for the usual cause (a dead primary).
      default: failover
      timeout: 15m

  execute:
    - id: hold-orders
      kind: action
      title: Pause the order-queue consumers so orders queue up instead of failing
      http: { method: POST, url: "\${${DEMO_ORDERS_URL_VAR}}/queue/pause", secret: demo-orders-hmac, body: { incident: "\${incident.id}" } }
    - id: forensic-copy
      kind: backup
      title: Copy what the damaged primary still holds, before restoring over it
      target: demo-orders-db
      when: { step: ${DEMO_DECISION_STEP}, is: restore }
      onFailure: continue
    - id: failover
      kind: action
      title: Promote the streaming replica (signed request)
      when: { step: ${DEMO_DECISION_STEP}, is: failover }
      http: { method: POST, url: "\${${DEMO_ORDERS_URL_VAR}}/failover", secret: demo-orders-hmac, body: { incident: "\${incident.id}" } }
      compensate: failback
    - id: start-restore
      kind: action
      title: Restore the latest backup onto a fresh primary (signed request)
      when: { step: ${DEMO_DECISION_STEP}, is: restore }
      http: { method: POST, url: "\${${DEMO_ORDERS_URL_VAR}}/restore", secret: demo-orders-hmac, body: { incident: "\${incident.id}" } }

  recover:
    - id: order-api-healthy
      kind: verify
      title: The order API is healthy again
      check: { http: { url: "\${${DEMO_ORDERS_URL_VAR}}/health", expect: 200 } }
      until: 2m
      interval: 1s
      onFailure: compensate
    - id: resume-orders
      kind: action
      title: Resume the order-queue consumers; queued orders are processed now
      http: { method: POST, url: "\${${DEMO_ORDERS_URL_VAR}}/queue/resume", secret: demo-orders-hmac, body: { incident: "\${incident.id}" } }
    - id: baseline-backup
      kind: backup
      title: Fresh backup of the recovered primary, restore-checked
      target: demo-orders-db
      restoreCheck: true
      onFailure: continue
    - id: recovered
      kind: notify
      via: slack
      to: "#incidents"
      message: "[DEMO] \${incident.id}: order writes are back after \${decision.${DEMO_DECISION_STEP}}; queued orders are being processed."

  retrospective:
    # review: false lets the demo incident close by itself; real runbooks keep it open until the review is done.
    - id: postmortem
      kind: postmortem
      due: 5d
      review: false
    - id: postmortem-request
      kind: notify
      via: email
      to: demo-commander@example.com
      message: "[DEMO] The post-mortem of \${incident.id} is drafted: open it on the web page."
`;

const TARGETS = `# DEMO targets, written by \`fireline demo\` (src/demo/files.ts): the pretend order system on loopback.
backups:
  demo-orders-db:
    provider: http
    start: { url: "\${${DEMO_ORDERS_URL_VAR}}/backups", method: POST }
    status: { url: "\${${DEMO_ORDERS_URL_VAR}}/backups/{id}" }
    pollInterval: 1s
secrets:
  demo-orders-hmac:
    env: ${DEMO_HMAC_VAR}
`;

const ONCALL = `# DEMO on-call, written by \`fireline demo\` (src/demo/files.ts). Nobody here is real: every page goes to the
# outbox because the demo configures no email, Slack or SMS.
people:
  - { id: demo-ana, name: Ana (demo on-call), email: ana.demo@example.com, slack: U0DEMOANA0, timeZone: Europe/Berlin }
  - { id: demo-ben, name: Ben (demo on-call), email: ben.demo@example.com, timeZone: Europe/Berlin }
  - { id: demo-omar, name: Omar (demo manager), email: omar.demo@example.com, timeZone: Europe/Berlin }
schedules:
  - id: demo-orders
    timeZone: Europe/Berlin
    layers:
      - name: weekly
        rotation: { length: 1w, handoff: "09:00", start: 2025-01-06 }
        members: [demo-ana, demo-ben]
escalationPolicies:
  - id: demo-orders
    levels:
      - { targets: [{ schedule: demo-orders }], delay: 2m }
      - { targets: [{ person: demo-omar }], delay: 5m }
`;

export interface DemoDirs {
  configDir: string;
  runbooksDir: string;
}

/** Writes the demo's config and runbook under `dataDir`, replacing what an earlier demo wrote. */
export function writeDemoFiles(dataDir: string): DemoDirs {
  const configDir = path.join(dataDir, 'config');
  const runbooksDir = path.join(dataDir, 'runbooks');
  fs.mkdirSync(configDir, { recursive: true });
  fs.mkdirSync(runbooksDir, { recursive: true });
  fs.writeFileSync(path.join(configDir, 'targets.yaml'), TARGETS);
  fs.writeFileSync(path.join(configDir, 'oncall.yaml'), ONCALL);
  fs.writeFileSync(path.join(runbooksDir, `${DEMO_RUNBOOK_ID}.yaml`), RUNBOOK);
  return { configDir, runbooksDir };
}
