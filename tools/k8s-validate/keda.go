package main

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A mirror of KEDA's keda.sh/v1alpha1 ScaledObject (github.com/kedacore/keda/v2/apis/keda/v1alpha1,
// scaledobject_types.go), the fields a chart may set; unknown ones are rejected like the API
// server's structural schema prunes/refuses them.
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ScaledObjectSpec `json:"spec"`
}

type ScaledObjectSpec struct {
	ScaleTargetRef        *ScaleTarget    `json:"scaleTargetRef"`
	PollingInterval       *int32          `json:"pollingInterval,omitempty"`
	InitialCooldownPeriod *int32          `json:"initialCooldownPeriod,omitempty"`
	CooldownPeriod        *int32          `json:"cooldownPeriod,omitempty"`
	IdleReplicaCount      *int32          `json:"idleReplicaCount,omitempty"`
	MinReplicaCount       *int32          `json:"minReplicaCount,omitempty"`
	MaxReplicaCount       *int32          `json:"maxReplicaCount,omitempty"`
	Advanced              map[string]any  `json:"advanced,omitempty"`
	Triggers              []ScaleTriggers `json:"triggers"`
	Fallback              map[string]any  `json:"fallback,omitempty"`
}

type ScaleTarget struct {
	Name                   string `json:"name"`
	APIVersion             string `json:"apiVersion,omitempty"`
	Kind                   string `json:"kind,omitempty"`
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

type AuthenticationRef struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
}

type ScaleTriggers struct {
	Type              string             `json:"type"`
	Name              string             `json:"name,omitempty"`
	UseCachedMetrics  bool               `json:"useCachedMetrics,omitempty"`
	Metadata          map[string]string  `json:"metadata"`
	AuthenticationRef *AuthenticationRef `json:"authenticationRef,omitempty"`
	MetricType        string             `json:"metricType,omitempty"`
}

// the metadata keys of KEDA's Kafka scaler (docs: keda.sh/docs/scalers/apache-kafka)
var kafkaKeys = map[string]bool{
	"bootstrapServers": true, "consumerGroup": true, "topic": true, "lagThreshold": true, "activationLagThreshold": true,
	"offsetResetPolicy": true, "allowIdleConsumers": true, "scaleToZeroOnInvalidOffset": true, "excludePersistentLag": true,
	"limitToPartitionsWithLag": true, "partitionLimitation": true, "version": true, "sasl": true, "tls": true,
}

func (s *ScaledObject) Validate() error {
	if s.Spec.ScaleTargetRef == nil || s.Spec.ScaleTargetRef.Name == "" {
		return fmt.Errorf("spec.scaleTargetRef.name is required")
	}
	if len(s.Spec.Triggers) == 0 {
		return fmt.Errorf("spec.triggers is empty")
	}
	if s.Spec.MinReplicaCount != nil && s.Spec.MaxReplicaCount != nil && *s.Spec.MinReplicaCount > *s.Spec.MaxReplicaCount {
		return fmt.Errorf("minReplicaCount %d > maxReplicaCount %d", *s.Spec.MinReplicaCount, *s.Spec.MaxReplicaCount)
	}
	for i, t := range s.Spec.Triggers {
		if t.Type != "kafka" {
			continue
		}
		for k := range t.Metadata {
			if !kafkaKeys[k] {
				return fmt.Errorf("triggers[%d].metadata.%s is not a kafka scaler setting", i, k)
			}
		}
		for _, k := range []string{"bootstrapServers", "consumerGroup", "lagThreshold"} {
			if t.Metadata[k] == "" {
				return fmt.Errorf("triggers[%d].metadata.%s is required", i, k)
			}
		}
	}
	return nil
}
