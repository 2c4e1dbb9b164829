# affinity-tester on a Kubernetes cluster. `make` (or `make help`) lists the targets.
# The Kubernetes targets run our own CLI (npx affinity-tester ...), which talks to the API with your
# kubeconfig (KUBECONFIG or ~/.kube/config); kubectl is needed only for client-job.
.DEFAULT_GOAL := help
SHELL := /bin/bash

NAMESPACE ?= affinity-tester
SERVICE ?= affinity-tester
# The server image: build and push it to a registry your cluster pulls from, e.g.
#   make build push IMAGE=registry.example.com/team/affinity-tester
IMAGE ?= affinity-tester
TAG ?= $(shell node -p "require('./package.json').version" 2>/dev/null || echo latest)
REPLICAS ?= 3
SESSION_AFFINITY ?= ClientIP
EXTERNAL_TRAFFIC_POLICY ?= Local
SCALEUP_REPLICAS ?= 10
SCALEUP_CPU ?= 1
DEPLOY_TIMEOUT ?= 5m
DISCOVER_TIMEOUT ?= 5m
ENV_FILE ?= env.list
CONTAINER_TOOL ?= $(shell command -v docker 2>/dev/null || command -v podman 2>/dev/null)
CLI ?= npx --no-install affinity-tester

KUBE_ARGS = --namespace $(NAMESPACE)

.PHONY: help build push apply-rbac apply-deployment apply-service deploy discover client client-job \
        client-job-logs client-job-report node-scaleup node-scaledown clean clean-all demo test e2e image-test cli

help: ## list the targets and variables
	@echo 'Targets:'
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-17s %s\n", $$1, $$2 }'
	@echo
	@echo 'Variables (now):'
	@echo '  NAMESPACE=$(NAMESPACE) SERVICE=$(SERVICE) IMAGE=$(IMAGE) TAG=$(TAG) REPLICAS=$(REPLICAS)'
	@echo '  SESSION_AFFINITY=$(SESSION_AFFINITY) EXTERNAL_TRAFFIC_POLICY=$(EXTERNAL_TRAFFIC_POLICY)'
	@echo '  SCALEUP_REPLICAS=$(SCALEUP_REPLICAS) SCALEUP_CPU=$(SCALEUP_CPU) ENV_FILE=$(ENV_FILE)'
	@echo '  CONTAINER_TOOL=$(or $(CONTAINER_TOOL),(none found: install docker or podman))'

# The CLI is built by `npm ci` (the prepare script); build it if dist/ is missing.
cli:
	@test -d node_modules || { echo 'run "npm ci" first' >&2; exit 2; }
	@test -f dist/cli/affinity-tester.js || npm run build --silent

build: ## build the image IMAGE:TAG with docker or podman
	@test -n "$(CONTAINER_TOOL)" || { echo 'neither docker nor podman found' >&2; exit 2; }
	$(CONTAINER_TOOL) build -t $(IMAGE):$(TAG) .

push: ## push IMAGE:TAG to its registry
	@test -n "$(CONTAINER_TOOL)" || { echo 'neither docker nor podman found' >&2; exit 2; }
	$(CONTAINER_TOOL) push $(IMAGE):$(TAG)

apply-rbac: cli ## create the client's read-only ServiceAccount and (Cluster)Roles (needs rights to create RBAC)
	$(CLI) deploy --only rbac $(KUBE_ARGS)

apply-deployment: cli ## apply the server Deployment (REPLICAS, IMAGE:TAG) and wait until its pods are ready
	$(CLI) deploy --only deployment $(KUBE_ARGS) --image $(IMAGE):$(TAG) --replicas $(REPLICAS) --timeout $(DEPLOY_TIMEOUT)

apply-service: cli ## apply the LoadBalancer Service (SESSION_AFFINITY, EXTERNAL_TRAFFIC_POLICY)
	$(CLI) deploy --only service $(KUBE_ARGS) --service $(SERVICE) \
	  --session-affinity $(SESSION_AFFINITY) --external-traffic-policy $(EXTERNAL_TRAFFIC_POLICY)

deploy: apply-deployment apply-service ## both of the above

discover: cli ## wait for the Service's LoadBalancer address and print it as TARGET_ADDR/TARGET_PORT
	$(CLI) discover $(KUBE_ARGS) --service $(SERVICE) --timeout $(DISCOVER_TIMEOUT) --output env

# env.list's non-empty KEY=value lines become the client's environment (empty ones keep the
# defaults); with TARGET_ADDR empty the client discovers the Service's address itself.
client: cli ## run the client with the settings in ENV_FILE (Ctrl-C ends it with a summary and report)
	@test -f $(ENV_FILE) || { echo '$(ENV_FILE) not found' >&2; exit 2; }
	@while IFS= read -r line || [ -n "$$line" ]; do \
	  line="$${line%%$$'\r'}"; \
	  case "$$line" in ''|'#'*|*=) continue;; *=*) export "$$line";; esac; \
	done < $(ENV_FILE); \
	exec $(CLI) client $(KUBE_ARGS) --service $(SERVICE)

client-job: ## run clients inside the cluster as a Job (needs kubectl; see manifests/client)
	kubectl kustomize manifests/client \
	  | sed -e 's#namespace: affinity-tester#namespace: $(NAMESPACE)#' -e 's#image: affinity-tester:.*#image: $(IMAGE):$(TAG)#' \
	  | kubectl apply -f -

client-job-logs: ## print the in-cluster clients' output and JSON reports (needs kubectl)
	kubectl logs -n $(NAMESPACE) -l job-name=affinity-tester-client --prefix --tail=-1

client-job-report: cli ## wait for the client Job, read every pod's report through the API, merge: client-job-report.json and .html
	$(CLI) collect $(KUBE_ARGS) --job affinity-tester-client --report client-job-report.json --html client-job-report.html

node-scaleup: cli ## start SCALEUP_REPLICAS pause pods of SCALEUP_CPU CPU each, so the autoscaler adds nodes
	$(CLI) scaleup $(KUBE_ARGS) --replicas $(SCALEUP_REPLICAS) --cpu $(SCALEUP_CPU)

node-scaledown: cli ## scale the pause pods to 0, so the autoscaler removes the added nodes
	$(CLI) scaledown $(KUBE_ARGS)

clean: cli ## delete the Deployment, Service, scale-up pods and client Job (the RBAC stays)
	$(CLI) clean $(KUBE_ARGS) --service $(SERVICE)

clean-all: cli ## clean, and delete the client's RBAC too
	$(CLI) clean $(KUBE_ARGS) --service $(SERVICE) --rbac

demo: cli ## the local demo: no cluster needed, ends by itself
	$(CLI) demo

test: ## build and run the tests
	npm test

e2e: ## the end-to-end tests over real kernel NAT in network namespaces (root)
	npm run e2e

image-test: cli ## build the Dockerfile with buildah and run the image as a pod would (root; NODE_IMAGE=base)
	test/image/image-test.sh
