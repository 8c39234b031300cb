// Generates the sandbox's local CA and its loopback server certificate on first use.
// Nothing here is committed: keys live under .local/certs (git-ignored) and are made per machine.
// Node must trust the CA before it starts (NODE_EXTRA_CA_CERTS is read at process start),
// which is why scripts/with-sandbox-ca.mjs calls this and then spawns the real command.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import forge from 'node-forge';

export function certificatePaths(dir = resolve(process.cwd(), '.local', 'certs')) {
  return {
    dir,
    caCert: join(dir, 'sandbox-ca.pem'),
    serverCert: join(dir, 'sandbox-server.pem'),
    serverKey: join(dir, 'sandbox-server.key'),
  };
}

function rsaKeys() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    privatePem: privateKey,
  };
}

function baseCertificate(publicKey, years) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + years * 365 * 24 * 3600 * 1000);
  return cert;
}

/**
 * Host names the server certificate also covers (see docs/sandbox.md, "Under Microsoft's names"):
 * the global service and the national clouds (shared/cloud.ts; a test holds the two together).
 */
export const MICROSOFT_HOSTS = [
  'graph.microsoft.com',
  'login.microsoftonline.com',
  '*.vault.azure.net',
  // US Government (GCC High L4, DoD L5)
  'graph.microsoft.us',
  'dod-graph.microsoft.us',
  'login.microsoftonline.us',
  '*.vault.usgovcloudapi.net',
  // China, operated by 21Vianet
  'microsoftgraph.chinacloudapi.cn',
  'login.chinacloudapi.cn',
  '*.vault.azure.cn',
];

export function ensureSandboxCertificates(dir) {
  const paths = certificatePaths(dir);
  if (existsSync(paths.caCert) && existsSync(paths.serverCert) && existsSync(paths.serverKey)) {
    const cert = forge.pki.certificateFromPem(readFileSync(paths.serverCert, 'utf8'));
    const names = (cert.getExtension('subjectAltName')?.altNames ?? []).map((n) => n.value);
    const current = MICROSOFT_HOSTS.every((h) => names.includes(h));
    if (current && cert.validity.notAfter.getTime() > Date.now() + 7 * 24 * 3600 * 1000) return paths;
  }
  mkdirSync(paths.dir, { recursive: true });

  const ca = rsaKeys();
  const caCert = baseCertificate(ca.publicKey, 5);
  const caName = [{ name: 'commonName', value: 'M365 Integration Sandbox Local CA' }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const server = rsaKeys();
  const serverCert = baseCertificate(server.publicKey, 2);
  serverCert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  serverCert.setIssuer(caName);
  serverCert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        // Microsoft's names, for clients that cannot change their base URL and reach the sandbox
        // through a hosts entry (docs/sandbox.md). Only this machine's own CA vouches for them.
        ...MICROSOFT_HOSTS.map((value) => ({ type: 2, value })),
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
  ]);
  serverCert.sign(ca.privateKey, forge.md.sha256.create());

  writeFileSync(paths.caCert, forge.pki.certificateToPem(caCert));
  writeFileSync(paths.serverCert, forge.pki.certificateToPem(serverCert));
  writeFileSync(paths.serverKey, server.privatePem, { mode: 0o600 });
  return paths;
}
