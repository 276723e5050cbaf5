// API clients for a site's cluster that keep their TLS connections open.
// @kubernetes/client-node 1.x builds a new https.Agent for every request, so every call pays a TLS handshake;
// on a small machine that, not the API server, bounds how fast a scale step can read and patch.
import { Agent } from 'node:https';
import { createConfiguration, type KubeConfig, ServerConfiguration, type RequestContext, type SecurityAuthentication } from '@kubernetes/client-node';

class KeepAliveAuth implements SecurityAuthentication {
  private agent?: Agent;
  constructor(private readonly kc: KubeConfig) {}

  getName(): string {
    return 'kubeconfig-keepalive';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    // Headers (tokens, exec plugins) are still applied per request; only the connection pool is shared.
    await this.kc.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    if (!(fresh instanceof Agent)) return; // plain HTTP or a proxy agent: leave it as built
    this.agent ??= new Agent({ ...fresh.options, keepAlive: true, maxSockets: 16 });
    context.setAgent(this.agent);
  }
}

export function makeClient<T>(kc: KubeConfig, api: new (config: ReturnType<typeof createConfiguration>) => T): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return new api(createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: new KeepAliveAuth(kc) } }));
}
