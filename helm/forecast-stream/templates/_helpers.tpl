{{- define "forecast-stream.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "forecast-stream.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "forecast-stream.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "forecast-stream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "forecast-stream.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "forecast-stream.secretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else if .Values.secret.create -}}
{{- include "forecast-stream.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* The processor container's env sources, volumes and security settings, shared by the Deployment and the CronJob. */}}
{{- define "forecast-stream.envFrom" -}}
- configMapRef:
    name: {{ include "forecast-stream.fullname" . }}
{{- with (include "forecast-stream.secretName" .) }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end -}}

{{- define "forecast-stream.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and .Values.secretFiles.enabled (include "forecast-stream.secretName" .) }}
- name: secret-files
  mountPath: {{ .Values.secretFiles.mountPath }}
  readOnly: true
{{- end }}
{{- if .Values.caBundle.configMap }}
- name: ca-bundle
  mountPath: {{ .Values.caBundle.mountPath }}
  readOnly: true
{{- end }}
{{- if eq .Values.models.source "volume" }}
- name: engines
  mountPath: {{ .Values.models.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "forecast-stream.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if .Values.secretFiles.enabled }}
{{- if not (include "forecast-stream.secretName" .) }}
{{- fail "secretFiles.enabled needs existingSecret (or secret.create) to name the Secret to mount" }}
{{- end }}
- name: secret-files
  secret:
    secretName: {{ include "forecast-stream.secretName" . }}
    defaultMode: 0400
{{- end }}
{{- if .Values.caBundle.configMap }}
- name: ca-bundle
  configMap:
    name: {{ .Values.caBundle.configMap }}
{{- end }}
{{- if eq .Values.models.source "volume" }}
{{- if not .Values.models.volume }}
{{- fail "models.volume must name a volume source (e.g. persistentVolumeClaim: {claimName: ...}) when models.source is volume" }}
{{- end }}
- name: engines
  {{- toYaml .Values.models.volume | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "forecast-stream.scheduling" -}}
{{- $nodeSelector := deepCopy (.Values.nodeSelector | default dict) -}}
{{- $tolerations := .Values.tolerations | default list -}}
{{- if .Values.gpu.enabled -}}
{{- $nodeSelector = merge $nodeSelector (.Values.gpu.nodeSelector | default dict) -}}
{{- $tolerations = concat $tolerations (.Values.gpu.tolerations | default list) -}}
{{- end -}}
{{- with $nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
