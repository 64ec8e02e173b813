import { mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CARRIER_PROFILES } from '../adapters/carriers/index.js';
import { previewAudienceFile } from '../src/cli/commands/preview.js';
import { parseCampaign } from '../src/domain/campaign.js';
import { encodeMessage } from '../src/domain/encoding.js';
import { normalizeMsisdn } from '../src/domain/msisdn.js';
import { Router } from '../src/domain/routing.js';
import { opsPerSecond, rssMb, type Report } from './harness.js';

// Deterministic pseudo-random numbers so runs compare (mulberry32: an LCG's low bits repeat too soon).
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const PREFIXES = ['086', '096', '097', '098', '032', '039', '081', '085', '088', '091', '094', '089', '090', '093', '070', '079', '092', '056', '059', '087'];

/** Numbers as audiences write them: national, international, spaced, dotted, pre-2018 and a few broken ones. */
function sampleNumbers(count: number): string[] {
  const next = random(7);
  return Array.from({ length: count }, () => {
    const prefix = PREFIXES[next() % PREFIXES.length] as string;
    const rest = String(next() % 10_000_000).padStart(7, '0');
    switch (next() % 8) {
      case 0:
        return `84${prefix.slice(1)}${rest}`;
      case 1:
        return `+84 ${prefix.slice(1)} ${rest.slice(0, 3)} ${rest.slice(3)}`;
      case 2:
        return `${prefix}.${rest.slice(0, 3)}.${rest.slice(3)}`;
      case 3:
        return `0169${rest}`;
      case 4:
        return `${prefix}${rest.slice(0, 4)}`;
      default:
        return `${prefix}${rest}`;
    }
  });
}

const TEXTS = [
  'So TTTT Can Tho: Xet nghiem la then chot, vac-xin la can co. Duong day nong 1900 9095',
  'Sở TTTT Cần Thơ: Xét nghiệm là then chốt, vắc-xin là căn cơ để thích ứng an toàn có kiểm soát. Đường dây nóng 1900 9095',
  'KHẨN - Sở TTTT Kiên Giang: Từ 0h ngày 19/7/2021 toàn tỉnh giãn cách xã hội theo Chỉ thị 16/CT-TTg. Người dân ở nhà, chỉ ra ngoài khi thật cần thiết. Đường dây nóng Sở Y tế: 1900 3228',
  'Phong chong dich nCoV: deo khau trang, rua tay {xa phong} & khai bao y te [tokhaiyte.vn] ~ hotline 19009095 €'.repeat(3),
];

const CAMPAIGN = `id: bench-preview
name: Bench
message:
  text: "Sở TTTT Cần Thơ: Xét nghiệm là then chốt, vắc-xin là căn cơ. Đường dây nóng 1900 9095"
  sender: { viettel: STTTT-CT, vnpt: STTTT-CT, mobifone: STTTT-CT }
audience:
  lists: [bench]
  areas: { province: ["92"] }
operators: [viettel, vnpt, mobifone]
`;

async function writeAudience(path: string, lines: number): Promise<void> {
  const next = random(11);
  const out = createWriteStream(path);
  out.write('msisdn,province,commune,name\n');
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    const prefix = PREFIXES[next() % PREFIXES.length] as string;
    const province = next() % 10 === 0 ? '79' : '92';
    chunk += `${prefix}${String(next() % 10_000_000).padStart(7, '0')},${province},${31117 + (i % 85)},Nguoi dan ${i}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

export async function run(report: Report): Promise<void> {
  const numbers = sampleNumbers(200_000);
  const router = new Router(CARRIER_PROFILES);
  let sink = 0;
  const numbersPerSecond = opsPerSecond(() => {
    for (const input of numbers) {
      const result = normalizeMsisdn(input);
      if (result.ok && !router.route(result.msisdn).unroutable) sink++;
    }
    return numbers.length;
  }, 2000);
  report({ bench: 'msisdn.normalize+route', value: Math.round(numbersPerSecond), unit: 'numbers/s', routed: sink > 0 });

  let reference = 0;
  const textsPerSecond = opsPerSecond(() => {
    for (const text of TEXTS) {
      encodeMessage(text, { policy: 'auto', ucs2Allowed: true, reference: reference++ & 0xff });
      encodeMessage(text, { policy: 'auto', ucs2Allowed: false, reference: reference++ & 0xff });
    }
    return TEXTS.length * 2;
  }, 2000);
  report({ bench: 'encoding.segment', value: Math.round(textsPerSecond), unit: 'texts/s' });

  const dir = await mkdtemp(join(tmpdir(), 'loa-bench-'));
  try {
    const csv = join(dir, 'audience-1m.csv');
    const lines = 1_000_000;
    await writeAudience(csv, lines);
    const campaign = parseCampaign(CAMPAIGN);
    const start = performance.now();
    const result = await previewAudienceFile(campaign, csv);
    const seconds = (performance.now() - start) / 1000;
    report({
      bench: 'preview.1m',
      value: Math.round(seconds * 100) / 100,
      unit: 's',
      rssMb: rssMb(),
      rows: result.rows,
      rowsPerSecond: Math.round(result.rows / seconds),
      recipients: result.recipients,
      duplicates: result.duplicates,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
