import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { parseConfig } from '@app/config';
import { GatewayConfigSchema } from '../../apps/gateway/src/config';
import { IngestConfigSchema } from '../../apps/ingest/src/config';
import { NotificationsConfigSchema } from '../../apps/notifications/src/config';
import { RoutingConfigSchema } from '../../apps/routing/src/config';
import { SlaConfigSchema } from '../../apps/sla/src/config';

/**
 * The Kubernetes manifests (deploy/k8s, Kustomize) render with `kubectl kustomize`, every object validates against
 * the Kubernetes OpenAPI schemas (kubernetes-models, offline), and the deployment policy holds: probes on the health
 * endpoints, requests and limits, an HPA and a PDB per service, migrations before the service starts, every setting of
 * every service's config schema wired from a ConfigMap or the Secret (a new setting without wiring fails here),
 * only the gateway open to outside traffic, non-root read-only containers.
 */
type K8s = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

const ROOT = resolve(__dirname, '..', '..');
const SERVICES = {
  gateway: GatewayConfigSchema,
  ingest: IngestConfigSchema,
  routing: RoutingConfigSchema,
  sla: SlaConfigSchema,
  notifications: NotificationsConfigSchema,
} as const;
type ServiceName = keyof typeof SERVICES;
const NAMES = Object.keys(SERVICES) as ServiceName[];
/** Settings whose value is, or may carry, a credential: only ever from the Secret. */
const SECRET_SETTING = /(SECRET|TOKENS?|PASSWORD|_KEYS?)$|^(DATABASE_URL|NATS_URL)$/;
/** Valid stand-ins for the Secret's required keys, to check that the rendered configuration parses. */
const SECRET_STANDINS: Record<string, string> = {
  DATABASE_URL: 'postgres://switchboard:pw@postgres.example:5432/switchboard',
  NATS_URL: 'nats://nats:4222',
  SECRETS_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
};

function render(dir: string): K8s[] {
  const text = execFileSync('kubectl', ['kustomize', resolve(ROOT, dir)], { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  return parseAllDocuments(text).map((d) => d.toJSON() as K8s).filter(Boolean);
}

/** The kubernetes-models class of an object (core group: `v1/Kind`, others `group/version/Kind`). */
function modelOf(o: K8s): new (data: unknown) => { validate(): void } {
  const path = `kubernetes-models/${o.apiVersion}/${o.kind}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path)[o.kind];
}

function settingsOf(schema: z.ZodTypeAny): string[] {
  let s: any = schema;
  while (!(s instanceof z.ZodObject)) s = s._def.schema ?? s._def.innerType;
  return Object.keys(s.shape);
}

function matches(selector: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/** A container's environment as Kubernetes builds it: envFrom ConfigMaps, then env (literal or Secret reference). */
function environmentOf(objects: K8s[], c: any): Map<string, { from: 'configmap' | 'secret' | 'literal'; value?: string; optional?: boolean }> {
  const env = new Map<string, { from: 'configmap' | 'secret' | 'literal'; value?: string; optional?: boolean }>();
  for (const ef of c.envFrom ?? []) {
    expect(ef.secretRef).toBeUndefined(); // secrets are named one by one, never a whole Secret
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ef.configMapRef.name);
    if (!cm) throw new Error(`ConfigMap ${ef.configMapRef.name} is referenced but not rendered`);
    for (const [k, v] of Object.entries(cm.data ?? {})) env.set(k, { from: 'configmap', value: String(v) });
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.secretKeyRef) {
      expect(e.valueFrom.secretKeyRef).toMatchObject({ name: 'switchboard-secrets', key: e.name });
      env.set(e.name, { from: 'secret', optional: e.valueFrom.secretKeyRef.optional === true });
    } else env.set(e.name, { from: 'literal', value: e.value });
  }
  return env;
}

describe.each(['deploy/k8s/base', 'deploy/k8s/overlays/production'])('Kubernetes manifests: %s', (dir) => {
  let objects: K8s[];
  const deployment = (s: ServiceName) => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `switchboard-${s}`)!;
  const podLabels = (s: ServiceName) => deployment(s).spec.template.metadata.labels as Record<string, string>;
  const workloads = () => objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));

  beforeAll(() => {
    objects = render(dir);
  });

  it('renders, and every object validates against the Kubernetes schemas', () => {
    expect(objects.length).toBeGreaterThan(20);
    const invalid: string[] = [];
    for (const o of objects) {
      try {
        new (modelOf(o))(o).validate();
      } catch (err) {
        invalid.push(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
      }
    }
    expect(invalid).toEqual([]);
  });

  it.each(NAMES)('%s: a Deployment probing the health endpoints, with requests and limits, an HPA and a PDB', (s) => {
    const d = deployment(s);
    expect(d).toBeDefined();
    const pod = d.spec.template.spec;
    const main = pod.containers.find((c: any) => c.name === 'service');
    const port = main.ports.find((p: any) => p.name === 'http');
    expect(port).toBeDefined();
    expect(main.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(main.readinessProbe.httpGet).toEqual({ path: '/health/ready?peers=false', port: 'http' });
    expect(main.startupProbe.httpGet.path).toBe('/health/live');
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      expect({ container: c.name, requests: Object.keys(c.resources?.requests ?? {}).sort(), limits: Object.keys(c.resources?.limits ?? {}).sort() }).toEqual({
        container: c.name,
        requests: ['cpu', 'memory'],
        limits: ['cpu', 'memory'],
      });
    }
    // graceful shutdown fits: preStop pause + SHUTDOWN_TIMEOUT_MS < terminationGracePeriodSeconds
    const env = environmentOf(objects, main);
    expect(Number(env.get('SHUTDOWN_TIMEOUT_MS')?.value) / 1000 + 5).toBeLessThan(pod.terminationGracePeriodSeconds);
    expect(d.spec.replicas).toBeUndefined(); // the HPA owns the replica count

    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec.scaleTargetRef.name === d.metadata.name);
    expect(hpas).toHaveLength(1);
    expect(hpas[0].spec.scaleTargetRef.kind).toBe('Deployment');
    expect(hpas[0].spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget' && matches(o.spec.selector, podLabels(s)));
    expect(pdbs.map((p) => p.metadata.name)).toEqual([`switchboard-${s}`]);
    // the selector picks this service's pods only
    for (const other of NAMES.filter((n) => n !== s)) expect(matches(pdbs[0].spec.selector, podLabels(other))).toBe(false);
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === `switchboard-${s}`)!;
    expect(matches({ matchLabels: svc.spec.selector }, podLabels(s)) && !NAMES.some((n) => n !== s && matches({ matchLabels: svc.spec.selector }, podLabels(n)))).toBe(true);
  });

  it.each(NAMES)('%s: migrations run before the service starts (init container, main.js --migrate)', (s) => {
    const pod = deployment(s).spec.template.spec;
    const migrate = (pod.initContainers ?? []).find((c: any) => c.name === 'migrate');
    expect(migrate).toBeDefined();
    expect(migrate.image).toBe(pod.containers[0].image);
    expect(migrate.command.join(' ')).toMatch(/main\.js --migrate$/);
    expect(environmentOf(objects, migrate).get('SERVICE')?.value).toBe(s);
    // the service itself never migrates (production: MIGRATIONS_RUN off)
    expect(environmentOf(objects, pod.containers[0]).get('MIGRATIONS_RUN')?.value).toBe('false');
  });

  it.each(NAMES)('%s: every setting of its config schema is wired, secrets only from the Secret, and it parses', (s) => {
    const pod = deployment(s).spec.template.spec;
    const settings = settingsOf(SERVICES[s]);
    for (const c of [pod.containers[0], pod.initContainers[0]]) {
      const env = environmentOf(objects, c);
      const missing = settings.filter((k) => !env.has(k));
      expect({ container: c.name, missing }).toEqual({ container: c.name, missing: [] }); // add it to deploy/k8s/base/<service>/
      const unknown = [...env.keys()].filter((k) => k !== 'SERVICE' && !settings.includes(k));
      expect({ container: c.name, unknown }).toEqual({ container: c.name, unknown: [] });
      const misplaced = [...env].filter(([k, v]) => SECRET_SETTING.test(k) && v.from !== 'secret').map(([k, v]) => `${k} from ${v.from}`);
      expect({ container: c.name, misplaced }).toEqual({ container: c.name, misplaced: [] });

      // what the pod would see with the Secret's required keys present: a valid production configuration
      const values: Record<string, string> = {};
      for (const [k, v] of env) {
        if (v.from === 'secret') {
          if (!v.optional) values[k] = SECRET_STANDINS[k] ?? `stand-in-${k.toLowerCase()}`;
        } else values[k] = v.value ?? '';
      }
      expect(values.NODE_ENV).toBe('production');
      expect(() => parseConfig(SERVICES[s], values)).not.toThrow();
    }
  });

  it('runs every container as non-root with a read-only root filesystem and no privilege escalation', () => {
    for (const w of workloads()) {
      const pod = w.spec.template.spec;
      expect({ workload: w.metadata.name, runAsNonRoot: pod.securityContext?.runAsNonRoot }).toEqual({ workload: w.metadata.name, runAsNonRoot: true });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        expect({ container: `${w.metadata.name}/${c.name}`, ...c.securityContext }).toMatchObject({
          container: `${w.metadata.name}/${c.name}`,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('lets only the gateway take outside traffic (network policies and Service types)', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    // default deny: every pod, ingress, no rule
    expect(policies.some((p) => Object.keys(p.spec.podSelector ?? {}).length === 0 && p.spec.policyTypes.includes('Ingress') && !p.spec.ingress?.length)).toBe(true);
    const openFromOutside = (rule: any) =>
      !rule.from?.length ||
      rule.from.some((f: any) => f.ipBlock || (f.namespaceSelector && !f.namespaceSelector.matchLabels && !f.namespaceSelector.matchExpressions && !f.podSelector));
    for (const s of NAMES) {
      const open = policies.filter((p) => matches(p.spec.podSelector, podLabels(s)) && (p.spec.ingress ?? []).some(openFromOutside));
      expect({ service: s, open: open.length > 0 }).toEqual({ service: s, open: s === 'gateway' });
    }
    for (const svc of objects.filter((o) => o.kind === 'Service' && o.spec.type && o.spec.type !== 'ClusterIP')) {
      expect(matches({ matchLabels: svc.spec.selector }, podLabels('gateway'))).toBe(true);
    }
    for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
      const backends = ing.spec.rules.flatMap((r: any) => r.http.paths.map((p: any) => p.backend.service.name));
      expect([...new Set(backends)]).toEqual(['switchboard-gateway']);
    }
  });

  if (dir.endsWith('production')) {
    it('production: a 3-node NATS JetStream cluster, streams replicated 3 times, external PostgreSQL, the webhook Ingress', () => {
      const nats = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'nats')!;
      expect(nats.spec.replicas).toBe(3);
      const conf = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'nats-config')!.data['nats.conf'] as string;
      expect(conf).toMatch(/jetstream \{/);
      expect(conf.match(/nats:\/\/nats-\d\.nats-headless:6222/g)).toHaveLength(3);
      // the NATS server itself accepts the configuration (the nats-server CI starts for the tests)
      const file = join(mkdtempSync(join(tmpdir(), 'nats-conf-')), 'nats.conf');
      writeFileSync(file, conf);
      const check = spawnSync('nats-server', ['-c', file, '-t'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin`, POD_NAME: 'nats-0' } });
      expect({ status: check.status, out: `${check.stdout}${check.stderr}`.trim() }).toEqual({ status: 0, out: expect.stringMatching(/is valid$/) });
      expect(objects.some((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'nats' && o.spec.maxUnavailable === 1)).toBe(true);
      expect(environmentOf(objects, deployment('routing').spec.template.spec.containers[0]).get('NATS_STREAM_REPLICAS')?.value).toBe('3');
      // PostgreSQL is not part of the install: DATABASE_URL comes from the Secret
      expect(workloads().some((w) => w.spec.template.spec.containers.some((c: any) => /postgres/.test(c.image)))).toBe(false);
      expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'switchboard')).toBe(true);
      const ingress = objects.find((o) => o.kind === 'Ingress')!;
      expect(ingress.spec.tls).toHaveLength(1);
    });
  }
});
