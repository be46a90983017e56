import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTES,
  BATCH_LENGTH,
  HEADER_SIZE,
  LOG_OVERHEAD,
  RECORDS_COUNT,
  writeCrc,
} from './record-batch.js';
import {
  type CompressionType,
  ControlRecordType,
  compress,
  decodeRecordBatch,
  decodeRecordBatches,
  decompress,
  type EncodeRecord,
  encodeControlBatch,
  encodeRecordBatch,
  findFirstOffsetAtOrAfterTimestamp,
  InvalidRecordError,
} from './records.js';

const require = createRequire(import.meta.url);

/** Header of `batch` + `section` (records bytes), with codec id, batchLength, recordsCount and CRC fixed. */
function withSection(batch: Buffer, section: Buffer, codecId?: number, recordsCount?: number): Buffer {
  const out = Buffer.alloc(HEADER_SIZE + section.length);
  batch.copy(out, 0, 0, HEADER_SIZE);
  section.copy(out, HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH);
  if (codecId !== undefined) out.writeInt16BE((out.readInt16BE(ATTRIBUTES) & ~7) | codecId, ATTRIBUTES);
  if (recordsCount !== undefined) out.writeInt32BE(recordsCount, RECORDS_COUNT);
  writeCrc(out, 0);
  return out;
}

const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const sampleRecords: EncodeRecord[] = [
  { key: 'k0', value: 'hello', timestamp: 1_700_000_000_000, headers: [{ key: 'trace', value: 'abc' }] },
  { key: null, value: binary, timestamp: 1_700_000_000_005 },
  {
    key: binary.subarray(0, 3),
    value: null,
    timestamp: 1_699_999_999_990,
    headers: [{ key: 'nul', value: null }],
  },
  {
    key: '',
    value: '',
    timestamp: 1_700_000_000_050,
    headers: [
      { key: 'ü', value: Buffer.alloc(0) },
      { key: 'x', value: 'y' },
    ],
  },
];

function expectSample(batch: ReturnType<typeof decodeRecordBatch>, baseOffset: number): void {
  expect(batch.recordsCount).toBe(4);
  expect(batch.records.map((r) => r.offset)).toEqual([0, 1, 2, 3].map((d) => baseOffset + d));
  expect(batch.records.map((r) => r.timestamp)).toEqual([
    1_700_000_000_000, 1_700_000_000_005, 1_699_999_999_990, 1_700_000_000_050,
  ]);
  expect(batch.records[0]!.key).toEqual(Buffer.from('k0'));
  expect(batch.records[0]!.value).toEqual(Buffer.from('hello'));
  expect(batch.records[0]!.headers).toEqual([{ key: 'trace', value: Buffer.from('abc') }]);
  expect(batch.records[1]!.key).toBeNull();
  expect(batch.records[1]!.value).toEqual(binary);
  expect(batch.records[2]!.key).toEqual(Buffer.from([0, 1, 2]));
  expect(batch.records[2]!.value).toBeNull();
  expect(batch.records[2]!.headers).toEqual([{ key: 'nul', value: null }]);
  expect(batch.records[3]!.key).toEqual(Buffer.alloc(0));
  expect(batch.records[3]!.value).toEqual(Buffer.alloc(0));
  expect(batch.records[3]!.headers).toEqual([
    { key: 'ü', value: Buffer.alloc(0) },
    { key: 'x', value: Buffer.from('y') },
  ]);
  expect(batch.baseTimestamp).toBe(1_700_000_000_000);
  expect(batch.maxTimestamp).toBe(1_700_000_000_050);
  expect(batch.lastOffsetDelta).toBe(3);
  expect(batch.lastOffset).toBe(baseOffset + 3);
}

/** The records the CLI golden sections below were made from (lz4 -B4 -BD -BX --content-size; zstd -19). */
function goldenSpec(i: number) {
  return {
    key: i % 7 === 0 ? null : Buffer.from(`key-${i}`),
    value: i % 11 === 0 ? null : Buffer.from(`value-${i}-`.repeat(1 + (i % 40))),
    headers:
      i % 3 === 0
        ? [
            { key: 'h', value: Buffer.from(`hv${i}`) },
            { key: 'n', value: null },
          ]
        : [],
    timestamp: 1_700_000_000_000 + i * 10,
  };
}
const GOLDEN_COUNT = 400;
const GOLDEN_SECTION_SIZE = 80548;

const LZ4_CLI_GOLDEN = [
  'BCJNGFxApDoBAAAAAABqRx0AAPQUHgAAAAEBBAJoBmh2MAJuATYAFAIKa2V5LTEgdmFsdWUtMS0IAFEARgAoBBwAIjIwFAAT',
  'MhwABggAUQBoADwGJAAiM0AkABMzJAAOCAACdQCBMwJuAWYAUAg1ACI0UDUAEzQ1AA8IAAdRAHYAZAo0ACI1YDQAEzU0AA8I',
  'AA9hAJgBAHgMPQAiNnA9ABM2PQAPCAAXAr4A0jYCbgGQAQCMAQ4BgAFLABM3SwAPCAAfcQCqAQCgARCZACM4kE8AEzhPAA8I',
  'ACdxAMwBALQBElcAIzmgVwATOVcADwgALwIJAbE5Am4B4gEAyAEUDD4CIzDGaQAjMTBqAA8JAEFiABoA3AEWcgCSMQEAmgIA',
  '8AEYDwAkMuqBAASeAg8JAFPyAgQCaAhodjEyAm4BmAIAhAIajwAkM/yPAAQJAw8JAFyiAJ4CAJgCHAGOAqcCFDFcAw8JAGVy',
  'ANACAKwCHh8BJDWglwAEvwMPCQBuA8kBojUCbgHOAgDAAiCqACQ2sqoABCwEDwkAd3IA4AIA1AIiqQAkN8SpAASKBA8JAIBy',
  'AIYDAOgCJLIAJDjWsgAE7QQPCQCJAyACojgCbgGEAwD8AibFACQ56MUABFsFDwkAknEAlgMAkAMoxAAzMjD6xAAUMr0FDwkA',
  'm6IAsAMApAMqAYwD7AQUMsUIDwkApAJrAqIyMQJuARoAuAMspgGSMgEAzAMAzAMuDwAkM7DuAARZBg8JALZyAPIDAOADMOgA',
  'JDTC6AAEwgYPCQC/A/EBojQCbgHwAwD0AzL7ACQ11PsABB0HDwkAyHIAggQAiAQ0+gAkNub6AARtBw8JANFyAKgEAJwENgMB',
  'JDf4AwEExwcPCQDaAxMD0zcCbgGaBACwBDgBigTeBQQlCA8JAONyALgEAMQEOiUCJDmcFQEEdQgPCQDscQDeBADYBDweATMz',
  'MK4eARQz2AgPCQD1Al4DsjMwAm4B3AQA7AQ+MQEkMcAxAQRCCQ8JAP5yAO4EAIAFQDABJDLSMAEEbBAPCQD/CGIALgCUBUI4',
  'ASMzAYECojMCbgGSBQCoBUQZACQ09lEBBOQJDwkA/xqiAJgFALwFRgGIBSoHFDMuCg8JAP8jcgDKBQDQBUiZAiQ2mlQBBIgK',
  'DwkA/ywDAASiNgJuAcgFAOQFSmcBJDesZwEE7AoPCQD/NXIA2gUA+AVMZgEkOL5mAQRCCw8JAP8+cgCABgCMBk5vASQ50G8B',
  'BJwLDwkA/0cDVwSROQJuASwAoAZQgQEyNDASEAeSNDAtAD4AtAZSFwAjMSQXAATkCrM0MS0AWADIBlQBNhoABM4JCAkAAmQA',
  'ojQyAm4BYgDcBlZNACMzSDMABIUTDwkAAmIAGgDwBlgyAJI0AQCaAQCEB1oPACM1bEEABLUHDwkAFAOPAKI1Am4BmAEAmAdc',
  'TwAjNn5PAASnBg8JAB1yAKwBAKwHXk4AFDefHBQ0jwUPCQAmcgDSAQDAB2BYACM4oicbFDSBBA8JAC8DEQHEOAJuAcQBANQH',
  'YgG0ZQAEdwMPCQA4cQDiAQDoB2TPABU1Bh0UNXEODwkAQXIAiAIA/AdmcwAjMdjdABQ1xgIPCQBKAl0BsjUxAm4BhgIAkAho',
  'hgAFfh0UNSkDDwkAU3IAmAIApAhqhQAFdB0UNXsDDwkAXHIAvgIAuAhsjgAUNHodFDXCDA8JAGUDtAERNE8YMswIbqAApDUB',
  'AMICAOAIcAHiHBQ1IgQPCQB3cgD0AgD0CHKyAAXiHBQ1hQQPCQCAA20BojcCbgHyAgCICXS8AAXsHBQ16QQPCQCJcgCEAwCc',
  'CXa7AAXiHBQ1NgUPCQCScQCqAwCwCXjEABU24hwUNpkFDwkAmwJWArI2MAJuAagDAMQJetcAFDHyHBQ2/QUPCQCkcgC6AwDY',
  'CXzWACMynvoYFDZNBg8JAK2EANQDAOwJfgGzHRQ2oQYPCQC2A6ECsjMCbgHgAwCACoABzAEFvh0UNgYHDwkAv3MA8gMAlAqC',
  '8gAFtR0UNsALDwkAyGMAMACoCoT6ACM2AQYCozYCbgGWBAC8CoYaAAXMHBQ2ugcPCQDacwCoBADQCogNARQ4yRwUNgsIDwkA',
  '43MAzgQA5AqKFgEFyhwUNmYIDwkA7ANMA8Q5Am4BwAQA+AqMAQHPHBQ3xQgPCQD1cgDeBACMC45LAhU3xhwUNxYJDwkA/nMA',
  'hAUAoAuQMQEFxxwUN3EJDwkA/wgClwOzNzICbgGCBQC0C5JEASMz5LocFDfcCQ8JAP8RcwCUBQDIC5RDAQX9HRQ3LAoPCQD/',
  'GnMAugUA3AuWTAEUNQQeFDeGCg8JAP8jA+4DozUCbgG4BQDwC5hfAQUPHhQ3NBMPCQD/LPMBABAAhAyaAQEBAPAFAJgMnGcB',
  'BakcFDcrCw8JAP8+A+ECozgCbgHuBQCsDJ56AQW0HBQ3jwsPCQD/R2IALgDADKB4ARQ4qxyTODAtAFQA1AyiGAAErBwUONMK',
  'FDiMGaM4MQJuAVIA6AykKwATMr0cFDjNCQgJAGIAZAD8DKadERQ4tBwUOLMIDwkAApIAfgCQDagBAVpRHBQ4nQcPCQALAlkC',
  'szg0Am4BiAEApA2qdAAE5xwUOJgGDwkAFHMAmgEAuA2sRgAE3hwUOH8FDwkAHXMAwgEAzA2uTwAF3xwUOKAQDwkAJgP4AJM3',
  'Am4BHADgDbBiAJM4AQDSAQD0DbIQABQ5lBwUOGADDwkAOHIA+AEAiA60awAVOZUcFDmbOQ8JAEEC+ADUOTACbgHqAQCcDrYB',
  'AZocFDm0Ag8JAEpzAIgCALAOuPUABQ86FDkGAw8JAFNzAK4CAMQOuoYABZIcFDliAw8JAFwDlgGjMwJuAawCANgOvJkABZ0c',
  'FDnOAw8JAGVzAL4CAOwOvpgABRg6FDkfBA8JAG5zAOQCAIAPwKEAFDYtHRQ5egQPCQB3A+0BozYCbgHiAgCUD8K0AAU4HRQ5',
  '3gQPCQCAowDoAgCoD8QBAdaMOBQ58wkPCQCJYwAwALwPxmgBEzkAF9I5OQJuAcQDANAPyAEOHj8jMKTTGiQxMIUFDwoAr3QA',
  '2AMA5A/K5AAlMbjkAATxBQ8KALl0AIIEAPgPzO4AJTLM7gAEYgYPCgDD9AMEAmgKaHYxMDICbgGABACMEM4DASUz4AMBBN8G',
  'DwoAzXQAlAQAoBDQAgElNPQCAQRIBw8KANejALAEALQQ0gEBiPoUJDEwtQcPCgDhBCgDpDUCbgG8BADIENQmAhQ2pTckMTA1',
  'CA8KAOt0ANAEANwQ1iABJTewQQIEoQgPCgD1dAD6BADwENgqASU4xCoBBB4JDwoA/wAEiQOkOAJuAfgEAIQR2j8BJTnYPwEE',
  'dg8PCgD/CmMAHgCYEdw9AaQxMAEAtgUArBHeEQAjMYDXMCUxMfAJDwoA/x0DqwLlMTECbgGmBQDAEeABAZRWAQVYCgbKSg8K',
  'AP8ddADIBQDUEeKyAiUzqFwBBbEKDwoA/zF0APIFAOgR5GYBJTS8ZgEFFQsGdUwPCgD/MQQ2BAEvRlQFAPwR5nsBJTXQewEF',
  'iwsPCgD/RXQAhAYAkBLoegElNuR6AQXkCwYpTg8KAP9FdACuBgCkEuqEASU3+IQBBUgMDwoA/1kElwSkNwJuAawGALgS7JkB',
  'MjiMBjwcFjHhTw8KAP9jpQCyBgDMEu4BAaCRAQUJDQ8KAP9tYwBIAOAS8DIDMzIwFDEDETJaHeQKaHYxMjACbgEeAPQS8iUA',
  'hDEBAFoAiBP0EAAkMjw1AAU6DAkKAHQAhAEAnBP2LwAkM1AvAAUDCw8KAAQD2gO0MjMCbgGCAQCwE/hEACQ0ZEQABesJBZ5P',
  'DxQABXQAlgEAxBP6QwAkNXhDAAWpCA8KABijALQBANgT/AEBjG0eJTEygAcPCgAiBOwApDYCbgHAAQDsE/6pACU3oGMABVUG',
  'DwoALIIA1AEAgBSAAiYaJDI4FSAVMdtMDwoAN3QA/gEAlBSCbAAlOcjOAAX5Aw8KAEAETwGjOQJuAfwBAKgUhIEANDMw3IEA',
  'BZVLDwoAS3QAkAIAvBSGgAAlMfCAAAW/EA8KAFRkADQA0BSIiQAjMgElAeMzMgJuAaoCAOQUigIBmAcdJTEzlAMPCgBodADM',
  'AgD4FIyzACU0rJ4ABfgDBalJDxQAaXQA9gIAjBWOqAAlNcCoAAVTBAUMSQ8UAHME/AGkNQJuAfQCAKAVkL0AJTbUvQAF0wQF',
  'dUgPFAB9dACIAwC0FZK8ABU3FlkVMyIFDwoAkHQAsgMAyBWUxgAlOPyCAQVvFw8KAJoEXQKkOAJuAbADANwVltsAJDmQuhwV',
  'M/UFDwoApJUAtgMA8BWYAgFkIRU0ZCEPCgCucwDuAwCEFpq3ARY0ZCEjNDHNJw8KALkDsAK0NDECbgHsAwCYFpz5AAZvIQWL',
  'Rw8KAMNjAB4ArBaeEgqkNDMBAKoEAMAWoBEABnIgFTR6Bw8KANYEHwKkNAJuAagEANQWohcBMzWIBEYMBTZJDwoA4XQAvAQA',
  '6BakFgEGeSAF/UkPCgDrlQDYBAD8FqYCAXIgBcdKDwoA9QRkA6Q3Am4B5AQAkBeoTgIGfSAVNAQJDwoA/nQA+AQApBeqNAEG',
  'ciAVNGcJDwoA/wlzAKIFALgXrD4BNDUw7NYFFTXSCQ8KAP8TA8UDtDUwAm4BoAUAzBeuUwEGtSEVNUEKDwoA/x10ALQFAOAX',
  'sFIBFTKxIQXzTg8KAP8odADeBQD0F7JcAQaxIRU1BhMPCgD/MQQfBKIzAm4BEACIGLQCeTs0nBi2egEGSiAVNToTDwoA/0V0',
  'AJoGALAYuHoBBkogFTX3Ew8KAP9PBBIDpDYCbgGYBgDEGLqPAQZVIAVtUg8KAP9adACsBgDYGLyOAQZKIBU1hAwPCgD/Y3QA',
  '1gYA7Bi+mAEVOVEgFTXoDA8KAP9tBNMEkzkCbgEyAIAZwKwBFTZcIMM2MC0AOACUGcICASg+ExU2FQyUNjEtAHAAqBnENwAF',
  'XiAFjVMKCgADcACkNjICbgFuALwZxjkABWggBe1SDwoABXQAggEA0BnIOQAFXSAVNusUDwoADmQANADkGcpCABQ1Wx20NjUC',
  'bgGsAQD4GcwcACQ2jAAeFTZoBw8KACJ0AMABAIwazlgABicgBeRQDwoALYUA3AEAoBrQAslcJTE2/gQPCgA2BMABpDgCbgHo',
  'AQC0GtLSAAYrIAWTTw8KAEFzAPwBAMga1HYAFjcgIAXmTg8KAEt0AKYCANwa1oAABiAgBT5ODwoAVQOLAbQ3MQJuAaQCAPAa',
  '2JUAJDKEkhwVN9ojDwoAXnQAuAIAhBvalAAVM6sgBfJMDwoAaXQA4gIAmBvcngAGqyAFTUwPCgBzBOUBxTQCbgHSAgCsG94C',
  'Aa8gBa1LDwoAfWQAHgDAG+BdAZQ2AQCeAwDUG+IRAAb4HxU3+B8PCgCQBIwBpDcCbgGcAwDoG+TRAAYDIAV6Sg8KAJt0ALAD',
  'APwb5tAABvgfBdBJDwoApXMA2gMAkBzo2gAWOGNBFTgtFg8KAK4DmQK0ODACbgHYAwCkHOrvAAYKIBU4tAkPCgC4lQDeAwC4',
  'HOwCAWdBFTjxBg8KAMJ0AJYEAMwc7t8BBlxBBZRLDwoAzQTsAqQzAm4BlAQA4BzwDQEG9SAFdEwPCgDXdACoBAD0HPIMAQbq',
  'IAU5TQ8KAOF0ANIEAIgd9BYBBuogBQlODwoA6wRNAxE2NTA0nB32KgGUNwEA5AQAsB34EQAG1x8VOFUODwoA/pUAgAUAxB36',
  'AgFCQBU46BIPCgD/CQSGAqM5Am4BjAUA2B38dgIWOdsfBY1QDwoA/xR0AKAFAOwd/kgBBoVBFTkHCg8KAP8dggDKBQCAHoAD',
  'cykWOdAfFTlyCg8KAP8nAwEEIjky6Hc0lB6CZwEG2x8kOTPKLA8KAP8xdADcBQCoHoRmATM0vAXaFwXgUw8KAP88dACGBgC8',
  'HoZwAQY3IQW4VA8KAP9GBFsExTUCbgH2BQDQHogDAYVBBZVVDwoA/1B0AJgGAOQeigIDJTf4cgQFAhYFb1YPFAD/UGQANAD4',
  'HoyNARQ4AB20OTgCbgHABgCMH44cAAazHzQ5OS0lBg8KAP9sYgAyAKAfkKEBJDIwBECkMjAwLQBcALQfkhoAEzGvHyQyMPQL',
  'MzIwMREFtDIwMQJuAVoAyB+ULwAEuh8kMjDRCgoKAIMAYADcH5YDAagfJDIwkQkPCgAFdACYAQDwH5hgAASoHyQyMKgfDwoA',
  'DwStAKQ0Am4BlgEAhCCaTgAEEEAVMk5UDwoAGXQArAEAmCCcTQAF5R8kMjDlHw8KACN0ANYBAKwgnlgABeUfJDIw5gQPCgAt',
  'BBIBpDcCbgHUAQDAIKBtAAUXQCQyMKIRDwoAN2QAHgDUIKJrALQ5AQCEAgDoIKQDAZ8/FTLJmQ8KAEsDAAGzMTACbgGQAgD8',
  'IKaVABUxih8VMl9QDwoAVXQApAIAkCGoigAFfx8VMolPDwoAX3QAzgIApCGqlAAFfx8VMstODwoAaQTHAaQzAm4BzAIAuCGs',
  'qQAFih8VMgRODwoAc3QA4AIAzCGuqAAFNUAVMjtNDwoAfXQAigMA4CGwsgAFKkAVMmlMDwoAhwQhAsQ2Am4B+gIA9CGyAwEu',
  'QBUyr0sPCgCRdACcAwCIIrSGAQUrICUyMacFDwoAmnQAxgMAnCK20AAFI0AkMjEXCg8KAKUEdAIROQ4ZM7AiuOQApDIwAQDY',
  'AwDEIroRAAVXHxYyPJoPCgC4dACCBADYIrzuAAVWPxUyKUoPCgDDAwECEzLFYDTsIr4DAQVpHyUyMvcKDwoAzJQAhgQAgCPA',
  'AwG+YBUytEsPCgDXdAC+BACUI8IHAgVXHxUyfUwPCgDhBCgDA8VgNKgjxCEBBWIfFTJXTQ8KAOt0ANAEALwjxiABBcVgJTIy',
  'Eg4PCgD0dAD6BADQI8gqAQVxICUyMigJDwoA/gSJAwPFYDTkI8o/AQVTQCUyMpcJDwoA/wlzAIwFAPgjzD4BFTN4IBUybFAP',
  'CgD/FIMAJgCMJM4DAVIWxDIzMQJuAbQFAKAk0FwBBTofJTIzaRQPCgD/J3QAyAUAtCTSXAEFu2AlMjOnCg8KAP8xdADyBQDI',
  'JNRmAQUvHxUyzlIPCgD/PAPXBhMzu2A03CTWewEjNdA4HBUyoVMPCgD/RnQAhAYA8CTYegEFcUAVMl5UDwoA/1B0AK4GAIQl',
  '2oQBBTYfJTIzPgwPCgD/WQSXBNM3Am4BngYAmCXcAwGMI18lMjOmDA8KAP9jdADABgCsJd4qAwW3ICUyM/8MDwoA/21jAEgA',
  'wCXgoQEVNLcgFTTUHaQ0MAJuAUYA1CXiJQAFwiAFvVakMjQxLQAeAOgl5CQAlDIBAIQBAPwl5hEABElAFTJbnQ8KAAUD0AMT',
  'NLFgNJAm6EQABawgBTVVDwoAD6IAiAEApCbqAwF4JyMVMlpUDwoAGXQAwgEAuCbsiQAGmiAFklMPCgAjBOwAA7FgNMwm7mMA',
  'BYpAJTI0VQYPCgAsdADUAQDgJvBiAAaaIAUJUg8KADd0AP4BAPQm8mwABYZAFTJBUQ8KAEEETwEDsWAziCf0gQAVNZFAJDI1',
  'YToPCgBLdACQAgCcJ/aAAAYHIRU19yMPCgBUlACsAgCwJ/gDAX9AJTI14g8PCgBeA6IBpDUyAm4BHgDEJ/ohAZQzAQDMAgDY',
  'J/wRAAZyIBU1miQPCgBydAD2AgDsJ/6oAAZyIAVjTQ8KAH0EdQEDp2BBgCiABDAxJjI1fSAFpkwPCgCHdACIAwCUKIK8ABU3',
  'eSAF00sPCgCRdACyAwCoKITGAAZ5IAULSw8KAJsEXQLFOAJuAaIDALwohgQBfSAVNecJDwoApHMAxAMA0CiIrgEVNqhAJTI2',
  'RwYPCgCudADuAwDkKIrkAAZGIQVRSg8KALkDsAK0NjECbgHsAwD4KIz5AAZRIQUcSw8KAMN0AIAEAIwpjvgABkYhBdtLDwoA',
  'zWQANACgKZABARQ0GBkTNp1gNLQpkhwABlwgBQqeDwoA4ZQArgQAyCmUBAEPgRUyb00PCgDrdADmBADcKZYvAgZKIAU3Tg8K',
  'APUEeQUDnWA08CmYNQEGVSAFEU8PCgD/AHQA+AQAhCqaNAEGSiAVNmQJDwoA/wlzAKIFAJgqnD4BFjdKIAWWUA8KAP8UA8UD',
  'EzedYDSsKp5TAQXNQBUyaVEPCgD/HnQAtAUAwCqgUgEGkyEFJlIPCgD/KJUA0AUA1CqiBAGMIQXnUg8KAP8yBBgEpDMCbgHc',
  'BQDoKqTGAgaXIQW6Uw8KAP88ZAAeAPwqpm8BlDUBAJoGAJArqBEAFDZYPyUyN0Y5DwoA/08EDwMDk2A0pCuqjwEGLSAFW1UP',
  'CgD/WnQArAYAuCusjgEFk2AVMhhWDwoA/2R0ANYGAMwrrpgBBikgBeBWDwoA/24E0wTDOQJuASQA4CuwBAEUUx+TODAtAEYA',
  '9CuyvwEVOCIgBdVWITI4k2A0iCy0JAAF2UAVOI4cCQoAA3AApDgyAm4BbgCcLLY5AAVKIBU4TSsPCgAEdACCAQCwLLg5AAU/',
  'IAV/VA8KAA90AKwBAMQsukMABeBABbZTDwoAGQTTABE1/Rw02Cy8VwC1NgEAsgEA7Cy+BAH3HwXFoA8KAC10AOoBAIAtwGwA',
  'BvcfBSlSDwoANwTiAAOIYDSULcJ3AAYCIAVzUQ8KAEFzAPwBAKgtxHYAFjn3HwWgUA8KAEt0AKYCALwtxoAABvcfBdhPDwoA',
  'VQOLARM5iGA00C3IlQAVMgkgFTl7Aw8KAF50ALgCAOQtypQABglBFTnWAw8KAGiUANQCAPgtzAQBLIEVMnlNDwoAcwTeAaQ0',
  'Am4B4AIAjC7OSgEGkCAFvEwPCgB9dAD0AgCgLtCyAAaFIAXwSw8KAIdkADQAtC7SuwAUNzoaEzl+YDTILtQcAAZTQBU5hSoP',
  'CgCadACwAwDcLtbQAAZTQAV0Sg8KAKVyANoDAPAu2NoAJTMw1h8VM+GhDwoArwIiBOQzMDACbgHKAwCEL9oEAeWhFTN8Sg8K',
  'ALl0AOwDAJgv3NYBBc8fJDMw5wYPCgDDdACWBACsL974AAXPHxUzDEwPCgDNBOwCA35gNMAv4A0BBX5gFTPgTA8KANd0AKgE',
  'ANQv4gwBBcsgJDMwF3YPCgDhdADSBADoL+QWAQUcQRUzZk4PCgDrBE0DpDYCbgHQBAD8L+YrAQXdIBUzOU8PCgD19AEAEACQ',
  'MOgEAQEAjgUApDDqMwEFpx8kMzCnHw8KAP8KBHwCA3RgM7gw7EkBFTGyHxUz01APCgD/FHQAoAUAzDDuSAEFpx8kMzGJMA8K',
  'AP8edADKBQDgMPBSAQU6QRUzWFIPCgD/KAMBBBMxdGA09DDyZwEFRUEVMytTDwoA/zJ0ANwFAIgx9GYBBa4fJDMxdjMPCgD/',
  'PJQA+AUAnDH2BAEzQRUzqVQPCgD/RgRUBKQ1Am4BhAYAsDH47gIFHCEVM3xVDwoA/1B0AJgGAMQx+oQBBREhFTNAVg8KAP9a',
  'dADCBgDYMfyOARQ4OkEkMzG1Fg8KAP9kBLUEETgsHjTsMf6iAZE5AQAyAIAygAXDOSQzMrM/ITMyamA0lDKCGgAEhh8VMwRX',
  'JDMyGBziMzIxAm4BTACoMoQFATzIHxUzSFYKCgBkAG4AvDKGVgAEfx8kMzKpGw8KAAV0AJgBANAyiDkABH8fFTOxVA8KAA8D',
  'BgETMmpgNOQyik4ABIofFTPzUw8KABl0AKwBAPgyjE0ABdA/FTMgUw8KACN0ANYBAIwzjlgABcU/JDMyxT8PCgAtBBIBA2pg',
  'NKAzkG0ABdkfJTMyuwMPCgA2lADaAQC0M5IFAXqgFTO3UA8KAEFjADQAyDOU2gAjMzBmGyMzM2BgNNwzlhwABWIfFTMAoA8K',
  'AFV0AKQCAPAzmIoABVcfJTMzcBgPCgBedADOAgCENJqUAAVXHyUzM64DDwoAaAO9AhMzYGA0mDScqQAF7j8lMzN4DA8KAHJ0',
  'AOACAKw0nqgABV4fFTPqTA8KAFJQMzUtdmE6+BUrVgUAAA9uABOUAPwCAMA0oAUBWWAVMxtMDwoAhwQaAqQ2Am4BiAMA1DSi',
  'cgEF5z8lMzNEBQ8KAJB0AJwDAOg0pMYABQ0gJTMznQUPCgCadADGAwD8NKbQAAUNIBUzwEkPCgClBHsCA/nBM5A1qOUAFjQY',
  'IBQ07j8PCgCvZAAeAKQ1quMAlDEBAIIEALg1rBEABjYfBaKfDwoAwwP3AdQ0MgJuAfIDAMw1rgUBCT8VM6VKDwoAzXQAlAQA',
  '4DWw/gEGLx8FWUsPCgDXdAC+BAD0NbIMAQYvHwUzTA8KAOEEKAMDVmA0iDa0IQEGOh8UNFo0DwoA63QA0AQAnDa2IAEGLx8F',
  'uU0PCgD1dAD6BACwNrgqAQUBQBUzgU4PCgD/AASJAwNWYDTENro/AQZlIBU0ZSAPCgD/CbMA/gQA2Da8BQHsBPkSBRRQDwoA',
  '/xRzALYFAOw2vn8CFjVTIBU1UyAPCgD/HQPcAwGb71QeAIA3wFwBlDIBAMgFAJQ3whEABgcfFTXSEQ8KAP8xdADyBQCoN8Rm',
  'AQYHHwVzUg8KAP88BPECpDQCbgHwBQC8N8Z7AQVMYCUzNaYqDwoA/0V0AIQGANA3yHoBBg4fBQNUDwoA/1CkAKAGAOQ3ygUB',
  '+BAiBcRUDwoA/1oEkAQDAME0+DfMFgMGEh8Fl1UPCgD/ZHQAwAYAjDjOmAEkOaCqIBU19QwPCgD/bWMASACgONChARU2mSAV',
  'No02EjZMYDS0ONIlAAWkIAViVqQzNjEtAFoAyDjUJAAEKkAVM41VCgoAZAA0ANw41i4AFDMtHsM2MwJuAXQA8DjYBQHqwCUz',
  'Nl0cDwoADnQAlgEAhDnaVwAFcCAF/VMPCgAZdADCAQCYOdxNAAZwIBU2OhMPCgAiA7cEEzZAYDSsOd5jABQ3SUAVM39SDwoA',
  'LXQA1AEAwDngYgAGcCAVNtMaDwoANnQA/gEA1DnibAAFPkAVM+RQDwoAQQRPAQNAYDPoOeSBABU3SUAVMydQDwoAS5QAggIA',
  '/DnmBQHqwBUzV08PCgBVdAC6AgCQOugDAQbgIAWFTg8KAF8DogGzNzICbgG4AgCkOuoIJRY36yAFz00PCgBpZAAeALg67J0A',
  'lDQBAPYCAMw67hEABkggBSSgDwoAfQRrAQPdwDTgOvC9AAWxPxUzSUwPCgCHdACIAwD0OvK8AAZPIAV2Sw8KAJGUAKQDAIg7',
  '9AUBVUAVM7FKDwoAmwRWAgPWwDScO/aaAQZTIAXqSQ8KAKVzAMQDALA7+NoAFjhIIBU4SCAPCgCudADuAwDEO/rkAAU2YBUz',
  '9EkPCgC5A7cCEzg2YDTYO/z5AAYxIRU49ycPCgDCdACABADsO/74AAZnQAV+Sw8KAM2CAKoEAIA8gAZyCBY4LSEVOFcMDwoA',
  '1gQRA/QENAJuARAAlDyCBgEBALwEAKg8hCABBiAgBc6fDwoA63QA5gQAvDyGIAEGICAF4k0PCgD1BF4CAyxgNNA8iDUBBisg',
  'BbVODwoA/wB0APgEAOQ8ijQBBiAgFTgrEw8KAP8JcwCiBQD4PIw+AQbuoBUzOlAPCgD/FAPFAxM5LGA0jD2OUwEGMiAFDVEP',
  'CgD/HpUApgUAoD2QBgF+QBU5fwoPCgD/J3QA3gUAtD2SpwIGbCEVOWwhDwoA/zEEGAQDLGA0yD2UcQEGdyEFb1MPCgD/PHQA',
  '8AUA3D2WcAEGbCEFIlQPCgD/RmQANADwPZh5ARQ2pRoTOSJgNIQ+mhwABhE/BXufDwoA/1p0AKwGAJg+nI4BBv8fFTnmGg8K',
  'AP9jhQDIBgCsPp4G/+AVM31WDwoA/24D0QdQOTkCbgFm9y78AAAAAES9Ul4=',
].join('');
const ZSTD_CLI_GOLDEN = [
  'KLUv/aSkOgEA/awA6vNoL1GwSlXpeGGi2UDRUaCxgaKjQGMDazoKNDZQdBRobGBNewo0NlC0p6EMINu715ndBTPevRtr7UbV',
  'u7HmBCOEELL3BkHJB09mOkgH6SBzI4RsmQLoAuEC5gJ9xMLrLPMmPyBPFlTnmPdowWjEQunsuX0ZYDZZAP2Dt81hi1TYfce7',
  'krVUwXYERLNFFiKRCrEnYJqkCqzTeJ+wc0iF00ErZptLzFEF0UHcmTmmQucZ3iQYQ4oo4A6qxh5BzwhDYXZQyfteuSEKroOh',
  't61ZIRRSB19q2fVJBVEgHey8xZIllkEofP5JeYcl82eC7h/r7HN0AplQ++fkbX5ATM8E2D/Tu9SVPyas/sGQTHYmmB6+x9j4',
  'MiF0b+Z9ZS5zJnDu0WxbFH8g4XYv9q5DqgcSZPeUvEXvI3YgoXXPFJIhiSUkfUhA3TPyPm1nDwmje523CcXUQILndKbsslVm',
  'ECF3mnuTFAljEIF2KnMeL4jw+ojblwa5FkRQnS55252lIELpVPSuVSqPCKDTH+LYokycAMLu1PNwZBKOOyDYzlPeZ4ojgBA7',
  't8w2iZgPQGCdn7xLBpUOQDidT2/yA7IBCKKzaOzRgpEBCJ1zzPkuoMF9xNvmsApoZo+g3q4kJ6BxfYG3yEJEQJM6AO/wbgiv',
  'Dg3pM84+YecBms81nLe5xDQA1B2M8i7BU1kAWDvoIpsEY8gcIOxgk/cIepgAcHVQ9L5X7gCg6aAQy1YAMHQa7/qkBgBy/ll5',
  'iywRgO/2bxbaDu2R0Lp8sn9S3uc3Om18rX+qt/kBYfND/Yspu9SV5Df6Z3qTVMj7ef69vMfYWL3cPdztK3NDj3Zv5m1Rlob3',
  'OtcZnuojxNqi9+EYXuke6mHFEtYWD3QP5n3aThd0d69jtgnFZEFt9368y1apgsZOaW+SIiFRUNapk7FHSho39HQKe18ahEtQ',
  '0emQt93ZEbRzKqpiDx4RulapIRh3GnMWP/DsI96hyCSs0IFd5ylnn6RzA6fOr7cJMjMw6WzkXTKHL/DnDCKbxICs4OMseo8P',
  'jBN2vMf76rgRdHwC2zYAq3E5j3cN69dyAt5iS7CBBRD0QCE2BxJUMIF2OMkX0LAHDw0P+jH/3wRM0kiwvnmPLKZSSJxOn9y+',
  'pzsjITqd8rYiG4VE51T1WtJOLWUjcKelFnEilBGz0yIPy1lYxka4zrv36TqfjEidbWabKaawEaTz7F2SSicjPmfWm+QP+RKh',
  'O59GHpuIqP2+747rEgE7v7ytDstExOoXdHWpLRGmY/BusYWpjIjQzTfJEsF5PfsknUtC3K6B8jY1H3MVQnbN6V3qSiUhWteI',
  'yCZrpCoE6pqY9wgbk4QY0VQIzzPYtiaLBETuoJR3DVUUCNrB1FscQY44HgHxOkjqcLyF4wmE6iCR9yk7jYAo/dO9zZZpAgH6',
  'Vyu7RDEt8mH3T/YmR2Tpg+3f6j1+npHIh9g/0+2bu6QPrH9GznbIh9M3r/dV7+iD6N5NvCrxxnzo3LPy8JaYijzg7iV5nx7o',
  'hPEwu4cy29yZIQ+ue0jepa0U4iF1z/MmYyTIA+k0N/bIGoN4+JxeeV96up8OutPX21IRUyAdaqdGuHo6wH7fIk780WF1Cnpo',
  'Z6GlnQ6m865P1/nSIXTO8jZTJuV04Jxj75JUZuFwO7PIJvnDvOMgO6feo48RC4fWGeZ9d1wdB9T5xbbVYa9wGJ077+pScxw8',
  'Z+AszmzIfdMhrLgNtOd4nyRmKxte1yB5m5qPeduguuZUdqkrq2woXXPkTdZI2wbQNZ33CBupaNgdxN2+q1vTYDs487YmO0VD',
  '7KDrXUPMNA2sg0VaFEGOKEXD6WCScyjONIi+eZ+yM4qGzj+d2WbLlGXA/cPyLlEllAyzf7A3+Y3IWAbXv1WPn4f5SYbUP9T7',
  '5i4sA+lf6G1p1kmGzz9ODx4Tur7qC4Pu38tVYhMMtXuyt1cKQ7EvsAsD7F7r5JMJhtXDtwmFuYXBdGp7l61SBkPodArZJBKS',
  'hYFzWnuPpHHJhdvpkvelQe7qguz0ZNvurJILrdMj71qlqi6gTj1vUcac5MLoXCU8w5NJeKYueM6695k6kVjInZ+cTZQF2kuU',
  'AbSz6POIjNfbPMlQvUsjMkpN1kiTDNA1MeexSIzdN++7uqUYtoMz29bEH5EYsYOwdyXFYL3FITFOXY5iiN5nTIzO2xTBwHWJ',
  'KmFgzP5ReZMj/kIwXP+OvEchMFJ8QTBIv29Ls0FgfP5x3vVVPy26e7cWVSKQlto9Kw/JUkh6WmD3Wu/TA/H3o2V1j0inxfTS',
  'Emry47RwemSNWV7cTq+87+nuXshOX2eL5UXrm660w57uBer09CsvRj3mXnhmXORwLmhtxcWrSf6QNxeqs8x79MFeFRels+dt',
  'cwFqq8NSabE7d8611sL2zbvFFnFKi9gJuLQWrOd4nxrSKaXF6RrW29R82Ju1EF0zpMsoLTpvUsYC9x6hsJj1Xd0YC9fBmbc1',
  '2ScsUgdd7wqGqoWxIB1MiZbZc8Licxfv0N5C+1qhO/h5n01W1Np0rYC9SyYrVm+ytcLU4+cZZVaE/i153xx7rBWcfz/elmaX',
  'qLj943R91ZUK2b+Xt1hVohIVrXuyc1hVKlDfnH16oDOJitE9Jm9zZ6ZUeO6N3qWNPSQpcqdYyCZjJCoF7R6Q98gaj6R4ndLe',
  'l57uKYXq9GXbiqyRFKVTJ+9KO9WUAnRauijiRLEIit0pKBR5xl4Jhe30JIIi9s3bTJkkFKxzrOySVA5BcTpDeZP8IUcoROfT',
  'e/QxxqDonGFu3x1XdAJ3Fr2tDvZgTsz+wLu61NAJ1xlosUUUciL1Bt5hBZ0gvb6DnPhcwzLZ/Gx0v+9SVwLZ1K4Rvckae54N',
  '7OCVsUfY+GOzuubH+65uZ2M6OHtb0GS9l03ooKtrqHqcDedgk7cIcsQsJm4HSe/wvIXnzoTs4OfsU8YUi4nWQc7bbJk6E6h/',
  'tXN5xcToG7LJEZkz4fn35D1+nnGmRO6f6X1zF1eC9i9k29KslRKvfzDv+mJ6K6G6J+UtqkSzSonSPVlolkLTVgJ0L8r79EAn',
  'FRK7e6i3uTNrJGz3RmWXtnIKidi9IQ98AT37JLFmCACna1xvcwSA6F3GANBhUoQD9/seYSMMjtlB3PuGcLjamqwQHKmDUt41',
  'xBoQDtLBIm8xCI5Pnx8X3fsE4lJ7mx4XWJeo8ofL6h+VN/mNyI6L6d/qzJoXl9Az9M1dDceF88/I29Jslhu3f5x3fdXdDdm9',
  'W4sqEcuN1j0rD81SaOpuoO61fuXGqM0dg7kbnnulz9jI4WzQemSNVmy8Tq+c782G6pu3pSJbxUbpVNWVdqrNBuhUyVvEMUjl',
  '3J2+vMvaaZtyxmgnq0sp56lnp+gs845yds4w77uDQZmJuwaWLRRz9vuuLjVmus7Au8UW8YmZOgEwk/Qc75N0OjE/17De5qvU',
  'daljsElZu4b0Jl0l7D0yKVd9V7dVmg7OvK3JypShg65zZZWcb5aQt4NJ3uF4Y3BFyv5leZ9KyFabKhL1LpOQozeZIj09fp4R',
  'yZj7t+R9cxc10v6F3pbG4JHxdW+m66ueRtW/l7NoZCx9876mEdSnBzqL3N09Jm9zZ5au7d7oXdpKIjd2z9NkjEHSZZ3uPuSe',
  'RlfUVmRjbufUybvSThVZ3GnpLVqcCGNnpyAObci6ft+ni0EhNnWOcpAlBbGf/lRdA6m1vjuup8LOorfVYX/U1S94VxcGO9V0',
  'A1psEV9q6A3cgpzKeT2fWcTbN2abmo+5E2XXyLxLXYlFbF0jepM1UieirumMPcL4uyKODureNyd63nYmzHXFhbS3aCV8vcVb',
  'qOpTdlYJSweDnPmzhaBneJeokkqN3T9Yk7Uatik1Yn1pNVhtaVZKjdM/mHd91VkN0b3bW1TxF6VG516TDq2MBg4KjVmbMRou',
  'Lp/QSP2+yRgJo0E6zb1H1uiExueU1vfE36t1p7E36ZqrYUx61WerTX3KdKhNTpms5pyrvEsm8bdkxu2M5EyuZsi+6dHHqGRG',
  '63x6q2agOsmMUadmeEQTiYzcCXiHJn8oGQGF+6gD9YhaRfFcYyYptBtD9hOWw1AojS1IHsMSYCDhUK1ghQAhQAgKISECIiBC',
  'IiACQohBhpkfzxSDkhkldt7/u4mc8u6tyj3pbAl4RCgdX2SLb3bOHzV+mgx8AXXYAHzEfpUqRo/n52Q608VLVpJ+aqxSGpif',
  '6jZBZZ6P/efsRgbdiq77irOyL+ARxmTBjaY5IOYiRtRlFkU/G8xWF8jH2g/s5dnTAnxoiqTL5oQ3dvb2fRHQrmzNp7MDu2QD',
  'G1meYySakDtEe9D580WsYGKcmDUHPN1intRCjBzQZxCmX2HgVdzS1ZSmlIHCBcjjXS6hBpwcjRDyK+X4Jm/qXoyulOsIvrJH',
  'iEQzZ8t07xBI4AbVSt/sUnyoBRqCYXPAVa3NzpL1XfiK4yA5Sh/vH2gRZCuIfapfrqBOkmoHKaM3n/N6iDIVB4LdmKT/Jp4B',
  'acu+3ci+ly9bheSjXxKfQJ30+CiTNNJqj5opHBMg5r4ST7jvnDNyfHCaoN4EvTGFIJ3/j8BGEpIwdtwVE31kiwmxEL6MHtmc',
  'GtA6rpJoMQukWelzR9o8uLSlnQaAG//c//Cs6X8NW9/u0qAGmhWm2HCeSDXiyB9s9PO4I2g+vcSMSyYZJ/zOnxjtAM8RjFxp',
  'DbMpbKsDJIBnlxOEMVBD+ed3vr90XikZGp+4XlX+3pUneem7m3CUCzrh0zaoG+aVX8VcMFW+4TI09rKzhG9oWMmm1NYr0mcb',
  'GAF7bbtY3HjoK2QpNGSHEJCEK10jFc32xeJAHc0ZXGmh3rjU82RyRVbfGB0OvWUaB98AXZG5JSuxgaK+vpS0MeXo7FvUBH4A',
  'Zs/g1181pMwcXaOXjFQ2pRIcmANWdwdS/PF/kNscNs6F5VdcPqzGGpD3rwxpyxsSa/ABk4LrYkY1RGWB4O076bEJ8Z4+y06Q',
  'ffPsVeutmZR8WHye1M3uPXKGGYA59WXEVxm6pkcg+GSM7mPtkCbVxieGE6vGCvcioC+NBFkMAvcl4LThQVXBgN+GO2AV9xlc',
  'hDu+gbw17c9rXNpVESPTl1wEo8o/93FG34rO68MUPVhCVidVPt1QMjPI9ZUlzlSTeDDmqqwcwvwxjQdYd70mzJIwgGR2PgYH',
  'udbNglLeeNkdqUO95fMGEyzBa4nilbVuEE8lNLnCKDY6SsMNuI7YplihnqYHpQoMmRn7FKuBf0DNU2rIgaMIQQm8j3Kx++am',
  'qAj/itWAgvTPSgtENpVhBFAMEqi9l8kiSwAFrxhkErSMSU324NmCRPyr/jWr67Qvfv724TO7wmPjd4HZgS4mSslNVUsaJh86',
  'v3K/E3/ZlLRaAR5aFVTgvUzU3laBT/SpjCHoQCQ+4S9dhXIRIrQiBQDzwCrc/A3MG+mbsA0bqpdQKfQ7OVvm2KCUW/2qUTbm',
  'ggSUFtS+wUwgeOCMQMxjuH4SmyqexzVpQZr7fdoXTjSggydqaXzQYGNt9cJkdIFtpJVB0FlbWvNivSEsHgtvp6TroYGuLG7v',
  '7vNRtuKbgg++4KWB6KLMUk1rjshtfjk92/AYPpA7wZwi5Cco4KPhVEJSxmyjYjBsbUmoLayU3iNmSEC+fzABGbxe6btboVfg',
  '1oaK+cHjumANDC+egAqLZTZumc9W45OKCIrzcPKd/A4D1pQdQxWQKD+F9IaZ/CScO6zlNeYJMffqO2FZE2mVPfpU7S6Hq1mZ',
  'hgK5Ou2CHg48KQmRI6AjEl2b+ofw/Yuu0N6wWNvonbK8QJ1xCe3owgLbSdgdY/GFPEPqL9ikXzA+hw9iqO791eovjdQvB7ux',
  'faDtL9mjflM+DBn3Rku7IHfZNAWmnMmLzi1XurnQKKZvmveRfrUhkAAB7R5NNlBVOgPzWbIiZf+k8tCAJep9OG8wrFc0ps9o',
  '0zy3NOpDtQbQXWU47uqvHy5txqT9qXcMYzkj8dostajpn0tQ3n/UADgZe7qiete3c3w+DY5FMqIu6x9FPvV6kVHRYTDASRz0',
  'EmNDfyTk30P1P2Way7Cr2gTpwSJHMyq29cHzqkjec2U/mNCnvUVqQzZ7W47WsFtflHrTeeNfsRkQF+xUP5sbv92W5ULNFcgg',
  'pr3RTTvW8PIFzPZrBE7WEIP8zzf/eUQwIi9vxZJIKmlXzJfhqejaql+APopDvu3ktwjRI39WX1UPv4EqvxnhskzSCCB/kyL0',
  'O2jogwv8ZryC0elQf1Z7gXZxAAJwz2QY38EakDoi7LWb2wITEMH6oPRk1AW/ddboWJDo6Op8OQ/r6w5G4AQCxhXDNSPpnmhW',
  '+B07oRcA1bD/0wnV0JVcYm2NDbC/pkwYhRllTUaeJfpgEFnnuH2vz6TWa0zaXrFuZquoJHvmbQ7Wfm/SBkAKSbZQDeOS1xGO',
  '0piCIzK7lUKhbmOLfeYV5O4qW0WvRoNFTeGgz0SZkccxRsJek/6bPq3DThndQp93a/WC32+EcqiMsmZNazqCbVbLsadYsgSs',
  'jSvYMVNW976QWARU9oEt/GYxtqxAXW1xWoAlG3EMQEvVbcZKvl2kGB9tjRYFzjEhoR42Lr+vkWWlIuLfSJuwtXmeomLTGSIf',
  '3GZZ+OA1qg9NMByLOtICDm/NwCIn3ROstDeid59mc4aImeciC14C4EQMCG85GJr7eLC/n6Yo+HejyJmg7vQM1CqdmPYDozFV',
  '2STO61rS47wrIOGgjS24RbNA20tYqfDgI6JN+GNuNK4Z/gbkWpks7K/vyrPe880Fzp6aSs6aAi9P1EyD4KkAqSa+AoeG5U+C',
  'F/2VRjeTGs+juBeakR0+9TThKEi3jhMbFooIlOZ0FJ8OAjTvGfN5JilAhMB7kpiAEwC7/+L1xa1bV3sdnoVuSBGWkpCrP/T3',
  'zRbr0lNbO9SZBXeJeciAowTlP8rX/omp8vssw2krwVnBqm014ndPNPpGb//TXMYk4oJ0lUWAljLJJl5FMPc9TSS725L7WnVp',
  'YR6KQalZCv4SbpIbSjl9n45asn8NkKJtEshtNDHl2uRI1izBmc/B9nlBOk/pIvuSASWEiZcQIYgGaRHg8lMuF58CnUlzV5K5',
  'hQugGSALUpHeOWFwRA62+jLa7hCAEAd3BDp4ame+KUoM0IROhCW+YDP1FRILILffKDT54gaQY2xx+i3vbnB8piHdh3vroPZD',
  'wfRHVFL41jIzmY0bLgIRxy2WWhy6GcqpM9nvBbSC/kc5yonECT2C7/EHq6azyDXAQjegN/1fMf8MuFdERKgNUDH05ZmPOCZU',
  'EqE/sSAkSoTc1O5nR8Oy4XEQyUIGgRIrbalFsJ1KNQZOBDQ85SeBgjMJyLVeoDB1awhwD0sUpZhcKI4Y+Qf1HMNwDlb4r3Yd',
  'cLoCMGmxjQ==',
].join('');

const CODECS: CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const CODEC_ID: Record<CompressionType, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

describe('encodeRecordBatch / decodeRecordBatch round trips', () => {
  for (const codec of CODECS) {
    it(`round-trips keys, null keys/values, binary values and headers with compression=${codec}`, () => {
      const buf = encodeRecordBatch({
        baseOffset: 1000,
        partitionLeaderEpoch: 7,
        compression: codec,
        records: sampleRecords,
      });
      const batch = decodeRecordBatch(buf);
      expect(batch.compression).toBe(codec);
      expect(batch.attributes & 7).toBe(CODEC_ID[codec]);
      expect(batch.magic).toBe(2);
      expect(batch.crcValid).toBe(true);
      expect(batch.sizeInBytes).toBe(buf.length);
      expect(batch.batchLength).toBe(buf.length - 12);
      expect(batch.partitionLeaderEpoch).toBe(7);
      expect(batch.producerId).toBe(-1);
      expect(batch.producerEpoch).toBe(-1);
      expect(batch.baseSequence).toBe(-1);
      expect(batch.isControl).toBe(false);
      expect(batch.isTransactional).toBe(false);
      expect(batch.timestampType).toBe('CreateTime');
      expect(batch.controlRecord).toBeNull();
      expectSample(batch, 1000);
    });

    it(`round-trips a large batch (multi-block) with compression=${codec}`, () => {
      const records = Array.from({ length: 3000 }, (_, i) => ({
        key: `key-${i}`,
        value: Buffer.concat([Buffer.from(`v${i}:`), binary, Buffer.from('x'.repeat(i % 97))]),
        timestampDelta: i,
      }));
      const buf = encodeRecordBatch({ compression: codec, baseTimestamp: 1_600_000_000_000, records });
      if (codec !== 'none' && codec !== 'zstd') {
        expect(buf.length).toBeLessThan(
          encodeRecordBatch({ baseTimestamp: 1_600_000_000_000, records }).length,
        );
      }
      const batch = decodeRecordBatch(buf);
      expect(batch.records).toHaveLength(3000);
      batch.records.forEach((r, i) => {
        expect(r.offset).toBe(i);
        expect(r.timestamp).toBe(1_600_000_000_000 + i);
        expect(r.key!.toString()).toBe(`key-${i}`);
        expect(
          r.value!.equals(Buffer.concat([Buffer.from(`v${i}:`), binary, Buffer.from('x'.repeat(i % 97))])),
        ).toBe(true);
      });
    });
  }

  it('takes the codec from attributes bits 0-2 and keeps idempotence/transaction fields', () => {
    const buf = encodeRecordBatch({
      attributes: 1 | 0x10,
      producerId: 4242,
      producerEpoch: 3,
      baseSequence: 17,
      records: [
        { value: 'a', timestamp: 5 },
        { value: 'b', timestampDelta: 2 },
      ],
    });
    const batch = decodeRecordBatch(buf);
    expect(batch.compression).toBe('gzip');
    expect(batch.isTransactional).toBe(true);
    expect(batch.producerId).toBe(4242);
    expect(batch.producerEpoch).toBe(3);
    expect(batch.baseSequence).toBe(17);
    expect(batch.records.map((r) => r.timestamp)).toEqual([5, 7]);
  });

  it('reports LogAppendTime records with the batch maxTimestamp', () => {
    const buf = encodeRecordBatch({
      logAppendTime: 9_999,
      records: [
        { value: 'a', timestamp: 1 },
        { value: 'b', timestamp: 2 },
      ],
    });
    const batch = decodeRecordBatch(buf);
    expect(batch.timestampType).toBe('LogAppendTime');
    expect(batch.maxTimestamp).toBe(9_999);
    expect(batch.records.map((r) => r.timestamp)).toEqual([9_999, 9_999]);
    expect(batch.records.map((r) => r.timestampDelta)).toEqual([0, 1]);
  });

  it('decodes a batch at a position and several batches back to back', () => {
    const a = encodeRecordBatch({ baseOffset: 0, compression: 'lz4', records: sampleRecords });
    const b = encodeRecordBatch({ baseOffset: 4, compression: 'snappy', records: sampleRecords });
    const both = Buffer.concat([a, b]);
    expectSample(decodeRecordBatch(both, a.length), 4);
    const all = decodeRecordBatches(both);
    expect(all.map((x) => x.baseOffset)).toEqual([0, 4]);
    expect(all.map((x) => x.compression)).toEqual(['lz4', 'snappy']);
  });
});

describe('control records', () => {
  for (const type of ['COMMIT', 'ABORT'] as const) {
    it(`encodes and detects a ${type} marker`, () => {
      const buf = encodeControlBatch({
        type,
        baseOffset: 55,
        producerId: 9,
        producerEpoch: 2,
        coordinatorEpoch: 13,
      });
      const batch = decodeRecordBatch(buf);
      expect(batch.isControl).toBe(true);
      expect(batch.isTransactional).toBe(true);
      expect(batch.attributes & 0x30).toBe(0x30);
      expect(batch.baseSequence).toBe(-1);
      expect(batch.producerId).toBe(9);
      expect(batch.records).toHaveLength(1);
      expect(batch.controlRecord).toEqual({
        version: 0,
        type: ControlRecordType[type],
        typeName: type,
        coordinatorEpoch: 13,
      });
      // Kafka's marker batch is 78 bytes (EndTransactionMarker: 4-byte key, 6-byte value, no headers).
      expect(buf.length).toBe(78);
      expect(findFirstOffsetAtOrAfterTimestamp(buf, 0)).toBeNull();
    });
  }

  it('rejects a control batch whose key is not int16 version + int16 type', () => {
    const buf = encodeRecordBatch({
      isControl: true,
      isTransactional: true,
      records: [{ key: 'x', value: null }],
    });
    expect(() => decodeRecordBatch(buf)).toThrow(/control record key/);
  });
});

describe('findFirstOffsetAtOrAfterTimestamp', () => {
  for (const codec of CODECS) {
    it(`finds the exact record inside a ${codec} batch, timestamps not monotonic`, () => {
      const buf = encodeRecordBatch({ baseOffset: 100, compression: codec, records: sampleRecords });
      // timestamps by offset: 100 -> ...000, 101 -> ...005, 102 -> ...999_990, 103 -> ...050
      expect(findFirstOffsetAtOrAfterTimestamp(buf, 0)).toBe(100);
      expect(findFirstOffsetAtOrAfterTimestamp(buf, 1_699_999_999_995)).toBe(100);
      expect(findFirstOffsetAtOrAfterTimestamp(buf, 1_700_000_000_001)).toBe(101);
      expect(findFirstOffsetAtOrAfterTimestamp(buf, 1_700_000_000_006)).toBe(103);
      expect(findFirstOffsetAtOrAfterTimestamp(buf, 1_700_000_000_050)).toBe(103);
      expect(findFirstOffsetAtOrAfterTimestamp(buf, 1_700_000_000_051)).toBeNull();
    });
  }

  it('accepts an already decoded batch and a position', () => {
    const a = encodeRecordBatch({ baseOffset: 0, records: [{ value: 'a', timestamp: 10 }] });
    const b = encodeRecordBatch({
      baseOffset: 1,
      records: [
        { value: 'b', timestamp: 20 },
        { value: 'c', timestamp: 30 },
      ],
    });
    const both = Buffer.concat([a, b]);
    expect(findFirstOffsetAtOrAfterTimestamp(both, 25, { pos: a.length })).toBe(2);
    expect(findFirstOffsetAtOrAfterTimestamp(decodeRecordBatch(both, a.length), 11)).toBe(1);
  });
});

describe('foreign encoders', () => {
  it('decodes a gzip batch produced by kafkajs 2.2.4 (recordBatch/v0 encoder)', async () => {
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
      RecordBatch: (o: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
    };
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (
      o: Record<string, unknown>,
    ) => unknown;
    const { Types } = require('kafkajs/src/protocol/message/compression') as {
      Types: Record<string, number>;
    };
    const base = 1_650_000_000_000;
    const input = Array.from({ length: 50 }, (_, i) => ({
      offsetDelta: i,
      timestampDelta: i * 3,
      key: i % 5 === 0 ? null : Buffer.from(`kjs-${i}`),
      value: Buffer.concat([Buffer.from(`payload ${i} `), binary.subarray(i, i + 40)]),
      headers:
        i % 2 === 0 ? { 'h-a': Buffer.from(`A${i}`), 'h-b': [Buffer.from('b1'), Buffer.from('b2')] } : {},
    }));
    const encoded = await RecordBatch({
      compression: Types.GZIP,
      firstTimestamp: base,
      maxTimestamp: base + 49 * 3,
      lastOffsetDelta: 49,
      records: input.map((r) => Record(r)),
    });
    const buf = encoded.buffer;
    // kafkajs defaults: producerId -1 with epoch 0, sequence 0, leader epoch 0.
    const batch = decodeRecordBatch(buf);
    expect(batch.crcValid).toBe(true);
    expect(batch.compression).toBe('gzip');
    expect(batch.producerId).toBe(-1);
    expect(batch.producerEpoch).toBe(0);
    expect(batch.baseSequence).toBe(0);
    expect(batch.partitionLeaderEpoch).toBe(0);
    expect(batch.records).toHaveLength(50);
    batch.records.forEach((r, i) => {
      expect(r.offset).toBe(i);
      expect(r.timestamp).toBe(base + i * 3);
      expect(r.key).toEqual(input[i]!.key);
      expect(r.value).toEqual(input[i]!.value);
      expect(r.headers).toEqual(
        i % 2 === 0
          ? [
              { key: 'h-a', value: Buffer.from(`A${i}`) },
              { key: 'h-b', value: Buffer.from('b1') },
              { key: 'h-b', value: Buffer.from('b2') },
            ]
          : [],
      );
    });
    expect(findFirstOffsetAtOrAfterTimestamp(buf, base + 100)).toBe(34);
  });

  const template = encodeRecordBatch({ records: [{ value: 'x', timestamp: 1_700_000_000_000 }] });

  function expectGolden(buf: Buffer): void {
    const batch = decodeRecordBatch(buf);
    expect(batch.records).toHaveLength(GOLDEN_COUNT);
    batch.records.forEach((r, i) => {
      const want = goldenSpec(i);
      expect(r.offset).toBe(i);
      expect(r.timestamp).toBe(want.timestamp);
      expect(r.key).toEqual(want.key);
      expect(r.value).toEqual(want.value);
      expect(r.headers).toEqual(want.headers);
    });
  }

  it('decodes an LZ4 frame from the reference lz4 CLI (linked 64 KB blocks, block+content checksums, content size)', () => {
    const section = Buffer.from(LZ4_CLI_GOLDEN, 'base64');
    expect(section.readUInt32LE(0)).toBe(0x184d2204);
    expect(decompress('lz4', section)).toHaveLength(GOLDEN_SECTION_SIZE);
    expectGolden(withSection(template, section, 3, GOLDEN_COUNT));
  });

  it('decodes a zstd frame from the reference zstd CLI (-19)', () => {
    const section = Buffer.from(ZSTD_CLI_GOLDEN, 'base64');
    expect(decompress('zstd', section)).toHaveLength(GOLDEN_SECTION_SIZE);
    expectGolden(withSection(template, section, 4, GOLDEN_COUNT));
  });

  it('decodes xerial-framed snappy (as Java writes it) with several chunks', () => {
    const sample = encodeRecordBatch({ records: sampleRecords });
    const plain = sample.subarray(HEADER_SIZE);
    const snappy = require('snappyjs') as { compress(b: Uint8Array): Uint8Array };
    const cut = [0, 100, 200, plain.length];
    const parts: Buffer[] = [
      Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]),
    ];
    for (let i = 0; i + 1 < cut.length; i++) {
      const c = Buffer.from(snappy.compress(plain.subarray(cut[i], cut[i + 1])));
      const len = Buffer.alloc(4);
      len.writeInt32BE(c.length);
      parts.push(len, c);
    }
    expectSample(decodeRecordBatch(withSection(sample, Buffer.concat(parts), 2, 4)), 0);
  });

  it('decodes multi-member gzip', () => {
    const sample = encodeRecordBatch({ records: sampleRecords });
    const plain = sample.subarray(HEADER_SIZE);
    const section = Buffer.concat([gzipSync(plain.subarray(0, 50)), gzipSync(plain.subarray(50))]);
    expectSample(decodeRecordBatch(withSection(sample, section, 1, 4)), 0);
  });

  const cli = (name: string) => ['/usr/bin', '/usr/local/bin'].some((d) => existsSync(join(d, name)));
  for (const [codec, tool] of [
    ['lz4', 'lz4'],
    ['zstd', 'zstd'],
  ] as const) {
    it.skipIf(!cli(tool))(`our ${codec} output is accepted by the reference ${tool} CLI`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'records-'));
      try {
        const data = Buffer.concat(
          Array.from({ length: 2000 }, (_, i) =>
            Buffer.from(`record ${i} ${'abc'.repeat(i % 50)} ${i * 7919}\n`),
          ),
        );
        writeFileSync(join(dir, 'in'), compress(codec, data));
        const out = execFileSync(tool, ['-d', '-c', join(dir, 'in')], {
          timeout: 10_000,
          maxBuffer: 64 << 20,
        });
        expect(out.equals(data)).toBe(true);
        expect(readFileSync(join(dir, 'in')).length).toBeGreaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('malformed input', () => {
  const good = encodeRecordBatch({ records: sampleRecords });
  const section = good.subarray(HEADER_SIZE);

  it('rejects a truncated batch and a too-small batchLength', () => {
    expect(() => decodeRecordBatch(good.subarray(0, 40))).toThrow(/truncated/);
    expect(() => decodeRecordBatch(good.subarray(0, good.length - 1))).toThrow(/truncated/);
    const bad = Buffer.from(good);
    bad.writeInt32BE(10, BATCH_LENGTH);
    expect(() => decodeRecordBatch(bad)).toThrow(/batchLength/);
  });

  it('rejects a bad CRC unless asked not to verify', () => {
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 0xff;
    expect(() => decodeRecordBatch(bad)).toThrow(/CRC mismatch/);
    expect(decodeRecordBatch(bad, 0, { verifyCrc: false }).crcValid).toBe(false);
  });

  it('rejects magic other than 2', () => {
    const bad = Buffer.from(good);
    bad[16] = 1;
    expect(() => decodeRecordBatch(bad)).toThrow(/magic 1/);
  });

  it('rejects trailing bytes after recordsCount records', () => {
    expect(() => decodeRecordBatch(withSection(good, Buffer.concat([section, Buffer.from([0])])))).toThrow(
      /1 bytes remain after the 4 records/,
    );
    expect(() => decodeRecordBatch(withSection(good, section, undefined, 3))).toThrow(
      /remain after the 3 records/,
    );
  });

  it('rejects fewer records than recordsCount', () => {
    expect(() => decodeRecordBatch(withSection(good, section, undefined, 5))).toThrow(InvalidRecordError);
  });

  it('rejects a recordsCount that cannot fit before allocating', () => {
    expect(() => decodeRecordBatch(withSection(good, section, undefined, 2_000_000_000))).toThrow(
      /cannot fit/,
    );
    expect(() => decodeRecordBatch(withSection(good, section, undefined, -1))).toThrow(/recordsCount -1/);
  });

  it('rejects a record that does not consume exactly its length', () => {
    // One record: length 8, body = attrs 0, tsDelta 0, offDelta 0, key -1, value len 1 'a', 0 headers, + 1 extra.
    const longer = Buffer.from([16, 0, 0, 0, 1, 2, 0x61, 0, 0x7f]);
    expect(() => decodeRecordBatch(withSection(good, longer, undefined, 1))).toThrow(
      /expected to read 8 bytes in record payload, but read 7/,
    );
    // Length says 5, but the value needs the 7th byte: the value no longer fits in the record.
    const shorter = Buffer.from([10, 0, 0, 0, 1, 2, 0x61, 0]);
    expect(() => decodeRecordBatch(withSection(good, shorter, undefined, 1))).toThrow(
      /value length 1 exceeds/,
    );
  });

  it('rejects lengths larger than the bytes left', () => {
    // record length 200 with 8 bytes present
    const bigRecord = Buffer.from([0x90, 0x03, 0, 0, 0, 1, 0, 0, 0]);
    expect(() => decodeRecordBatch(withSection(good, bigRecord, undefined, 1))).toThrow(
      /length 200 but only/,
    );
    // key length 1,000,000 inside a 7-byte record
    const bigKey = Buffer.from([16, 0, 0, 0, 0x80, 0x89, 0x7a, 0, 0]);
    expect(() => decodeRecordBatch(withSection(good, bigKey, undefined, 1))).toThrow(
      /key length 1000000 exceeds/,
    );
    // header count 1,000,000
    const bigHeaders = Buffer.from([16, 0, 0, 0, 1, 1, 0x80, 0x89, 0x7a]);
    expect(() => decodeRecordBatch(withSection(good, bigHeaders, undefined, 1))).toThrow(/header count/);
  });

  it('rejects over-long varints', () => {
    const rec = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => decodeRecordBatch(withSection(good, rec, undefined, 1))).toThrow(
      /varint is longer than 5 bytes/,
    );
  });

  it('rejects unknown codecs and corrupt compressed data', () => {
    expect(() => decodeRecordBatch(withSection(good, section, 5))).toThrow(/codec id 5/);
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      expect(() =>
        decodeRecordBatch(withSection(good, Buffer.from('definitely not compressed'), CODEC_ID[codec], 4)),
      ).toThrow(InvalidRecordError);
    }
  });

  it('enforces the decompressed-size limit for every codec', () => {
    const big = Buffer.alloc(1 << 20, 0x61);
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const packed = compress(codec, big);
      expect(decompress(codec, packed, 1 << 20)).toHaveLength(1 << 20);
      expect(() => decompress(codec, packed, (1 << 20) - 1)).toThrow(InvalidRecordError);
    }
  });

  it('verifies LZ4 frame header, block and content checksums', () => {
    const golden = Buffer.from(LZ4_CLI_GOLDEN, 'base64');
    const hc = Buffer.from(golden);
    hc[4 + 2 + 8] ^= 1; // header checksum byte (FLG, BD, 8-byte content size, HC)
    expect(() => decompress('lz4', hc)).toThrow(/header checksum/);
    const block = Buffer.from(golden);
    block[20] ^= 1; // inside the first block's data
    expect(() => decompress('lz4', block)).toThrow(/block checksum/);
    const content = Buffer.from(golden);
    content[content.length - 1] ^= 1;
    expect(() => decompress('lz4', content)).toThrow(/content checksum/);
  });

  it('rejects an LZ4 match offset pointing before the start of the output', () => {
    // Frame: version 01, independent blocks, 64 KB; block: token 0x10 (1 literal, match len 4), 'a', offset 5.
    const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0]);
    const xxh32 = (
      require('lz4js/xxh32.js') as { hash(s: number, b: Uint8Array, i: number, n: number): number }
    ).hash;
    header[6] = (xxh32(0, header, 4, 2) >>> 8) & 0xff;
    const block = Buffer.from([0x10, 0x61, 5, 0, 0x10, 0x62]);
    const size = Buffer.alloc(4);
    size.writeUInt32LE(block.length);
    const frame = Buffer.concat([header, size, block, Buffer.alloc(4)]);
    expect(() => decompress('lz4', frame)).toThrow(/match offset 5/);
    const ok = Buffer.from(frame);
    ok[13] = 1; // offset 1: 'a' + 4 x 'a', then literal 'b'
    expect(decompress('lz4', ok).toString()).toBe('aaaaab');
  });
});
