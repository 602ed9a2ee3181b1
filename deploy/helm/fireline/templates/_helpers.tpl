{{- define "fireline.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "fireline.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component (api, worker, migrate): pass (dict "root" $ "component" "api"). */}}
{{- define "fireline.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "fireline.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "fireline.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}

{{- define "fireline.temporalTls" -}}
{{- $t := .Values.temporal -}}
{{- if or $t.tls.enabled $t.tls.clientCertSecret $t.tls.caSecret $t.tls.serverName $t.apiKey.existingSecret -}}true{{- end -}}
{{- end -}}

{{/* Settings every Fireline process reads: the read model. */}}
{{- define "fireline.databaseEnv" -}}
{{- include "fireline.secretEnv" (dict "name" "DATABASE_URL" "secret" (required "database.existingSecret is required: a Secret with the PostgreSQL URL" .Values.database.existingSecret) "key" .Values.database.key) }}
- name: FIRELINE_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end -}}

{{/* Settings of `fireline api` and `fireline worker`. */}}
{{- define "fireline.env" -}}
{{- $t := .Values.temporal -}}
{{ include "fireline.databaseEnv" . }}
- name: TEMPORAL_ADDRESS
  value: {{ required "temporal.address is required: host:port of the Temporal frontend" $t.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ $t.namespace | quote }}
- name: TEMPORAL_TLS
  value: {{ ternary "on" "off" (eq (include "fireline.temporalTls" .) "true") | quote }}
{{- if $t.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ $t.tls.serverName | quote }}
{{- end }}
{{- if $t.tls.clientCertSecret }}
- name: TEMPORAL_TLS_CERT_PATH
  value: /etc/fireline/temporal-client/tls.crt
- name: TEMPORAL_TLS_KEY_PATH
  value: /etc/fireline/temporal-client/tls.key
{{- end }}
{{- if $t.tls.caSecret }}
- name: TEMPORAL_TLS_CA_PATH
  value: /etc/fireline/temporal-ca/ca.crt
{{- end }}
{{- if $t.apiKey.existingSecret }}
{{ include "fireline.secretEnv" (dict "name" "TEMPORAL_API_KEY" "secret" $t.apiKey.existingSecret "key" $t.apiKey.key) }}
{{- end }}
- name: FIRELINE_TASK_QUEUE
  value: {{ .Values.taskQueue | quote }}
{{- $publicUrl := .Values.publicUrl | default (ternary (printf "https://%s" .Values.ingress.host) "" .Values.ingress.enabled) }}
{{- if $publicUrl }}
- name: FIRELINE_PUBLIC_URL
  value: {{ $publicUrl | quote }}
{{- end }}
{{- if .Values.smtp.existingSecret }}
{{ include "fireline.secretEnv" (dict "name" "SMTP_URL" "secret" .Values.smtp.existingSecret "key" .Values.smtp.key) }}
- name: FIRELINE_MAIL_FROM
  value: {{ required "smtp.mailFrom is required with smtp.existingSecret" .Values.smtp.mailFrom | quote }}
{{- end }}
{{- if .Values.slack.existingSecret }}
{{ include "fireline.secretEnv" (dict "name" "SLACK_BOT_TOKEN" "secret" .Values.slack.existingSecret "key" .Values.slack.botTokenKey) }}
{{ include "fireline.secretEnv" (dict "name" "SLACK_SIGNING_SECRET" "secret" .Values.slack.existingSecret "key" .Values.slack.signingSecretKey) }}
{{- if .Values.slack.appTokenKey }}
{{ include "fireline.secretEnv" (dict "name" "SLACK_APP_TOKEN" "secret" .Values.slack.existingSecret "key" .Values.slack.appTokenKey) }}
{{- end }}
{{- end }}
{{- if .Values.pagingWebhook.url }}
- name: PAGING_WEBHOOK_URL
  value: {{ .Values.pagingWebhook.url | quote }}
{{- end }}
{{- if .Values.pagingWebhook.existingSecret }}
{{ include "fireline.secretEnv" (dict "name" "PAGING_WEBHOOK_SECRET" "secret" .Values.pagingWebhook.existingSecret "key" .Values.pagingWebhook.key) }}
{{- end }}
{{- if .Values.oidc.issuer }}
- name: FIRELINE_OIDC_ISSUER
  value: {{ .Values.oidc.issuer | quote }}
- name: FIRELINE_OIDC_CLIENT_ID
  value: {{ required "oidc.clientId is required with oidc.issuer" .Values.oidc.clientId | quote }}
- name: FIRELINE_OIDC_ROLES
  value: {{ required "oidc.roles is required with oidc.issuer" .Values.oidc.roles | quote }}
{{- if .Values.oidc.scopes }}
- name: FIRELINE_OIDC_SCOPES
  value: {{ .Values.oidc.scopes | quote }}
{{- end }}
{{- if .Values.oidc.roleClaim }}
- name: FIRELINE_OIDC_ROLE_CLAIM
  value: {{ .Values.oidc.roleClaim | quote }}
{{- end }}
{{- if .Values.oidc.existingSecret }}
{{ include "fireline.secretEnv" (dict "name" "FIRELINE_OIDC_CLIENT_SECRET" "secret" .Values.oidc.existingSecret "key" .Values.oidc.clientSecretKey) }}
{{- end }}
{{- end }}
{{- if .Values.configDir.existingConfigMap }}
- name: FIRELINE_CONFIG_DIR
  value: /etc/fireline/config
{{- end }}
{{- if .Values.runbooks.existingConfigMap }}
- name: FIRELINE_RUNBOOKS_DIR
  value: /etc/fireline/runbooks
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The root filesystem is read-only: scratch space and the data dir (backups made by runbook steps) are emptyDirs. */}}
{{- define "fireline.volumes" -}}
- name: tmp
  emptyDir: {}
- name: data
  emptyDir: {}
{{- if .Values.temporal.tls.clientCertSecret }}
- name: temporal-client
  secret:
    secretName: {{ .Values.temporal.tls.clientCertSecret }}
    defaultMode: 0440
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end }}
{{- if .Values.temporal.tls.caSecret }}
- name: temporal-ca
  secret:
    secretName: {{ .Values.temporal.tls.caSecret }}
    defaultMode: 0440
    items:
      - key: {{ .Values.temporal.tls.caKey }}
        path: ca.crt
{{- end }}
{{- if .Values.configDir.existingConfigMap }}
- name: config
  configMap:
    name: {{ .Values.configDir.existingConfigMap }}
{{- end }}
{{- if .Values.runbooks.existingConfigMap }}
- name: runbooks
  configMap:
    name: {{ .Values.runbooks.existingConfigMap }}
{{- end }}
{{- end -}}

{{- define "fireline.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /data
{{- if .Values.temporal.tls.clientCertSecret }}
- name: temporal-client
  mountPath: /etc/fireline/temporal-client
  readOnly: true
{{- end }}
{{- if .Values.temporal.tls.caSecret }}
- name: temporal-ca
  mountPath: /etc/fireline/temporal-ca
  readOnly: true
{{- end }}
{{- if .Values.configDir.existingConfigMap }}
- name: config
  mountPath: /etc/fireline/config
  readOnly: true
{{- end }}
{{- if .Values.runbooks.existingConfigMap }}
- name: runbooks
  mountPath: /etc/fireline/runbooks
  readOnly: true
{{- end }}
{{- end -}}

{{/* The image runs as the `node` user (uid 1000) of the Node.js base image. */}}
{{- define "fireline.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "fireline.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{- define "fireline.podSpecCommon" -}}
automountServiceAccountToken: false
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "fireline.podSecurityContext" . | nindent 2 }}
{{- end -}}
