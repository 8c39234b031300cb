/**
 * Teams transcripts arrive as WebVTT (calltranscript-get.md): cues of `start --> end` and a text
 * whose speaker is a voice tag, `<v Megan Bowen>Marketing is ready.</v>`. This turns them into
 * what a model reads well: one line per utterance with its time and speaker. The subset Teams
 * writes (no regions, no styles, no nested tags) is small enough to read here without a library.
 */

export interface Cue {
  /** Seconds from the start of the meeting. */
  start: number;
  end: number;
  speaker: string | null;
  text: string;
}

const TIME = /^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})$/;

function seconds(stamp: string): number | undefined {
  const m = TIME.exec(stamp.trim());
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]!.padEnd(3, '0')) / 1000;
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&nbsp;': ' ',
  '&quot;': '"',
};

/** The cues of a WebVTT document (the header, notes and malformed blocks are skipped). */
export function parseVtt(vtt: string): Cue[] {
  const cues: Cue[] = [];
  for (const block of vtt.replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    const timing = lines.findIndex((l) => l.includes('-->'));
    if (timing === -1) continue;
    const [from, to] = lines[timing]!.split('-->').map((p) => p.trim().split(/\s+/)[0] ?? '');
    const start = seconds(from ?? '');
    const end = seconds(to ?? '');
    if (start === undefined || end === undefined) continue;
    const raw = lines.slice(timing + 1).join(' ');
    const voice = /<v(?:\.[^\s>]+)*\s+([^>]+)>/.exec(raw);
    const text = raw
      .replace(/<[^>]*>/g, '')
      .replace(/&(amp|lt|gt|nbsp|quot);/g, (e) => ENTITIES[e] ?? e)
      .trim();
    cues.push({ start, end, speaker: voice ? voice[1]!.trim() : null, text });
  }
  return cues;
}

function clock(s: number): string {
  const whole = Math.floor(s);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const sec = whole % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

/** `[00:01:05] Megan Bowen: text`, one line per cue; consecutive cues of a speaker stay apart. */
export function transcriptText(cues: Cue[]): string {
  return cues.map((c) => `[${clock(c.start)}] ${c.speaker ? `${c.speaker}: ` : ''}${c.text}`).join('\n');
}
