// Command k8scheck decodes Kubernetes manifests strictly into the Kubernetes API's own Go types:
// an unknown or misspelt field, a duplicate key or a value of the wrong type is an error. It
// needs no cluster, which `kubectl apply --dry-run` does.
//
//	go run ./k8scheck FILE...
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// kinds are the object types the manifests may use.
var kinds = map[string]func() any{
	"v1/ConfigMap":                  func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                     func() any { return &corev1.Secret{} },
	"v1/Service":                    func() any { return &corev1.Service{} },
	"apps/v1/Deployment":            func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":           func() any { return &appsv1.StatefulSet{} },
	"policy/v1/PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
}

func main() {
	failed := false
	for _, path := range os.Args[1:] {
		n, err := check(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			failed = true
			continue
		}
		fmt.Printf("%s: %d objects OK\n", path, n)
	}
	if failed {
		os.Exit(1)
	}
}

func check(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var errs []error
	n := 0
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		n++
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			errs = append(errs, fmt.Errorf("object %d: %w", n, err))
			continue
		}
		newObj, ok := kinds[head.APIVersion+"/"+head.Kind]
		if !ok {
			errs = append(errs, fmt.Errorf("object %d: unexpected kind %s %s", n, head.APIVersion, head.Kind))
			continue
		}
		if err := yaml.UnmarshalStrict(doc, newObj()); err != nil {
			errs = append(errs, fmt.Errorf("%s %d: %w", head.Kind, n, err))
		}
	}
	return n, errors.Join(errs...)
}
