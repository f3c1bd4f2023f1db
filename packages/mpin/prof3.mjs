import { createMclBackend } from '@milagro/crypto';
const b = await createMclBackend();
const P = b.g1.hash(new Uint8Array([1,2,3]), 'X');
const res = {};
for (let r=0;r<10;r++){
 for (const [name, f] of [['mulCT128', () => b.g1.multiply(P, 1n<<127n | 12345n)], ['mulCT255', () => b.g1.multiply(P, (1n<<250n) | 12345n)], ['hash', () => b.g1.hash(new Uint8Array([1,2,3]), 'X')], ['decode', ()=>b.g1.decode(b.g1.encode(P))]]) {
  const s=performance.now(); for (let i=0;i<100;i++) f(); (res[name] ??= []).push(((performance.now()-s)/100).toFixed(3));
 }
}
console.log(res);
