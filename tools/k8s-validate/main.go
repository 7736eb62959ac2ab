// k8s-validate: a strict schema check of rendered Kubernetes objects (helm template output on
// stdin or in files). Every document is decoded into its Go API type with unknown fields
// rejected (a typo such as `securityContexts:` or a field at the wrong level fails), and the
// kinds the chart must not render unknown are refused. Built-in kinds use k8s.io/api; the
// Prometheus Operator kinds use its own API types; KEDA's ScaledObject is checked against a
// mirror of its v1alpha1 spec (keda.go), since KEDA's API module drags in its whole operator.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + "/" + kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Secret":
		return &corev1.Secret{}, true
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "batch/v1/CronJob":
		return &batchv1.CronJob{}, true
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, true
	case "monitoring.coreos.com/v1/PrometheusRule":
		return &monitoringv1.PrometheusRule{}, true
	case "keda.sh/v1alpha1/ScaledObject":
		return &ScaledObject{}, true
	}
	return nil, false
}

func check(doc []byte, where string) (string, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return "", fmt.Errorf("%s: not YAML: %w", where, err)
	}
	if string(js) == "null" {
		return "", nil
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	obj, ok := newObject(head.APIVersion, head.Kind)
	if !ok {
		return "", fmt.Errorf("%s: %s %s is not a kind this chart may render", where, head.APIVersion, head.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return "", fmt.Errorf("%s: %s %q: %w", where, head.Kind, head.Metadata.Name, err)
	}
	if head.Metadata.Name == "" {
		return "", fmt.Errorf("%s: %s without metadata.name", where, head.Kind)
	}
	if v, ok := obj.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return "", fmt.Errorf("%s: %s %q: %w", where, head.Kind, head.Metadata.Name, err)
		}
	}
	return head.Kind + "/" + head.Metadata.Name, nil
}

func split(r io.Reader) ([][]byte, error) {
	var docs [][]byte
	var cur bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimRight(line, " ") == "---" {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	docs = append(docs, cur.Bytes())
	return docs, sc.Err()
}

func main() {
	inputs := os.Args[1:]
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	failed := false
	for _, in := range inputs {
		var r io.Reader = os.Stdin
		if in != "-" {
			f, err := os.Open(in)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			defer f.Close()
			r = f
		}
		docs, err := split(r)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		n := 0
		for i, d := range docs {
			name, err := check(d, fmt.Sprintf("%s document %d", in, i+1))
			if err != nil {
				fmt.Fprintln(os.Stderr, "k8s-validate:", err)
				failed = true
				continue
			}
			if name != "" {
				n++
				fmt.Println("ok", name)
			}
		}
		if n == 0 {
			fmt.Fprintln(os.Stderr, "k8s-validate:", in, "holds no object")
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
