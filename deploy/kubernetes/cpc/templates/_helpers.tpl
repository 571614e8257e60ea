{{- define "cpc.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "cpc.commonLabels" -}}
app.kubernetes.io/part-of: cpc
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "cpc.labels" -}}
{{ include "cpc.commonLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one service's resources: (dict "root" $ "service" "rooms") */}}
{{- define "cpc.serviceLabels" -}}
{{ include "cpc.commonLabels" .root }}
{{ include "cpc.selector" . }}
{{- end -}}

{{/* Selector labels of one service: (dict "root" $ "service" "rooms") */}}
{{- define "cpc.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .service }}
{{- end -}}

{{- define "cpc.topology" -}}
{{- .Files.Get "topology.yaml" -}}
{{- end -}}

{{- define "cpc.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "cpc.fullname" .)) -}}
{{- end -}}

{{- define "cpc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ .Values.serviceAccount.name | default (include "cpc.fullname" .) }}{{- else -}}{{ .Values.serviceAccount.name | default "default" }}{{- end -}}
{{- end -}}

{{/* The KafkaUser (and SASL user name) of one service or partner: (dict "root" $ "name" "rooms") */}}
{{- define "cpc.kafkaUser" -}}
{{- if .root.Values.kafka.kafkaUserPrefix -}}{{ printf "%s%s" .root.Values.kafka.kafkaUserPrefix .name }}{{- else -}}{{ printf "%s-%s" (include "cpc.fullname" .root) .name }}{{- end -}}
{{- end -}}

{{- define "cpc.strimziNamespace" -}}
{{- .Values.strimzi.namespace | default .Release.Namespace -}}
{{- end -}}

{{/* NetworkPolicy peers of a dependency: (dict "podLabels" .. "namespace" .. "cidrs" ..) */}}
{{- define "cpc.peers" -}}
{{- if .cidrs }}
{{- range .cidrs }}
- ipBlock:
    cidr: {{ . }}
{{- end }}
{{- else }}
- podSelector:
    matchLabels:
      {{- toYaml .podLabels | nindent 6 }}
  {{- if .namespace }}
  namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ .namespace }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "cpc.ports" -}}
{{- range . }}
- protocol: TCP
  port: {{ . }}
{{- end }}
{{- end -}}
