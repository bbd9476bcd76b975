{{/*
Helpers shared by every component. Component helpers take a dict:
  root       the chart's top-level context ($)
  component  the component name (gateway, content, incentive, engagement-aggregator, analytics)
  values     the component's values (.Values.<component>)
*/}}

{{- define "planet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "planet.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "planet.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of a component's objects: <fullname>-<component>. */}}
{{- define "planet.componentName" -}}
{{- printf "%s-%s" (include "planet.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "planet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "planet.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "planet.labels" -}}
helm.sh/chart: {{ include "planet.chart" .root }}
{{ include "planet.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: planet
{{- end -}}

{{/* The one image every process runs; a digest pins it more strongly than a tag. */}}
{{- define "planet.image" -}}
{{- $img := .Values.image -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{- define "planet.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "planet.componentName" . }}
  labels:
    {{- include "planet.labels" . | nindent 4 }}
  {{- with .root.Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
# No component talks to the Kubernetes API.
automountServiceAccountToken: false
{{- end -}}

{{/* Pod-level fields every workload shares: identity, hardening, scheduling. */}}
{{- define "planet.podSpecCommon" -}}
serviceAccountName: {{ include "planet.componentName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  fsGroupChangePolicy: OnRootMismatch
  seccompProfile:
    type: RuntimeDefault
terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds | default 30 }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Container-level fields every process shares: image, hardening, resources. */}}
{{- define "planet.containerCommon" -}}
image: {{ include "planet.image" .root | quote }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
securityContext:
  allowPrivilegeEscalation: false
  privileged: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  capabilities:
    drop: ["ALL"]
  seccompProfile:
    type: RuntimeDefault
resources:
  {{- toYaml .values.resources | nindent 2 }}
{{- end -}}

{{/* Environment every process reads: where Kafka is, the optional topic suffix, and the
topic profile (the topics Job creates with it; the incentive service its internal changelogs). */}}
{{- define "planet.kafkaEnv" -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ required "kafka.bootstrapServers is required: the chart does not deploy Kafka; point it at an existing cluster, e.g. my-cluster-kafka-bootstrap.kafka.svc:9092" .root.Values.kafka.bootstrapServers | quote }}
- name: PLANET_TOPIC_PROFILE
  value: {{ .root.Values.topics.profile | quote }}
{{- with .root.Values.kafka.topicSuffix }}
- name: PLANET_TOPIC_SUFFIX
  value: {{ . | quote }}
{{- end }}
{{- with .values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The read-only root filesystem leaves /tmp (and HOME=/tmp) as the scratch space. */}}
{{- define "planet.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "planet.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .root.Values.tmpDir.sizeLimit }}
{{- end -}}

{{/* Native gRPC probes against grpc.health.v1 (the overall "" service). */}}
{{- define "planet.grpcProbes" -}}
{{- $p := .values.probes -}}
startupProbe:
  grpc:
    port: {{ .port }}
  periodSeconds: {{ $p.startup.periodSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
  timeoutSeconds: {{ $p.timeoutSeconds }}
readinessProbe:
  grpc:
    port: {{ .port }}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  timeoutSeconds: {{ $p.timeoutSeconds }}
livenessProbe:
  grpc:
    port: {{ .port }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
  timeoutSeconds: {{ $p.timeoutSeconds }}
{{- end -}}

{{/* Egress every process needs: DNS, and the Kafka brokers. */}}
{{- define "planet.egressBase" -}}
{{- $np := .root.Values.networkPolicy -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  {{- with $np.dns.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
- ports:
    {{- range $np.kafka.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with $np.kafka.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* A peer selecting the gateway's pods: the only caller of the internal gRPC services. */}}
{{- define "planet.gatewayPeer" -}}
- podSelector:
    matchLabels:
      {{- include "planet.selectorLabels" (dict "root" .root "component" "gateway") | nindent 6 }}
{{- end -}}

{{/* Fail rendering when a single-writer component is asked for more than one replica. */}}
{{- define "planet.atMostOne" -}}
{{- if gt (int .values.replicas) 1 -}}
{{- fail (printf "%s.replicas must be 0 or 1: %s" .key .why) -}}
{{- end -}}
{{- end -}}

{{- define "planet.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "planet.componentName" . }}
  labels:
    {{- include "planet.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "planet.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/* Where every gRPC service reads the trust file (callers' public keys) from. */}}
{{- define "planet.trustDir" -}}/etc/planet/service-auth{{- end -}}

{{/* A gRPC service: listen on every pod address, and verify callers against the trust file. */}}
{{- define "planet.grpcServerEnv" -}}
- name: PLANET_{{ .prefix }}_GRPC_HOST
  value: "0.0.0.0"
- name: PLANET_SERVICE_AUTH_TRUST_FILE
  value: {{ printf "%s/%s" (include "planet.trustDir" .) .root.Values.serviceAuth.trustSecretKey | quote }}
{{- end -}}

{{- define "planet.trustVolumeMount" -}}
- name: service-auth
  mountPath: {{ include "planet.trustDir" . }}
  readOnly: true
{{- end -}}

{{- define "planet.trustVolume" -}}
- name: service-auth
  secret:
    secretName: {{ required "serviceAuth.trustSecretName is required: an existing Secret holding the trust file of the calling services' public keys (deploy/k8s/README.md, 'What an SRE creates')" .root.Values.serviceAuth.trustSecretName | quote }}
    defaultMode: 0440
    items:
      - key: {{ .root.Values.serviceAuth.trustSecretKey | quote }}
        path: {{ .root.Values.serviceAuth.trustSecretKey | quote }}
{{- end -}}


{{/*
A Kubernetes memory quantity ("2Gi", "1500M", "1e9", 2147483648) in bytes, as a float string,
for the chart's own arithmetic; the schema has already checked its shape.
*/}}
{{- define "planet.memoryBytes" -}}
{{- $q := toString . -}}
{{- $units := dict "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 "P" 1000000000000000.0 "E" 1000000000000000000.0 "m" 0.001 -}}
{{- $bytes := "" -}}
{{- range $suffix := list "Ki" "Mi" "Gi" "Ti" "Pi" "Ei" "k" "M" "G" "T" "P" "E" "m" -}}
{{- if and (not $bytes) (hasSuffix $suffix $q) -}}
{{- $bytes = mulf (float64 (trimSuffix $suffix $q)) (get $units $suffix) | toString -}}
{{- end -}}
{{- end -}}
{{- $bytes | default (float64 $q | toString) -}}
{{- end -}}
