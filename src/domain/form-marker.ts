/**
 * The hidden marker every generated template carries, so the parser knows the form and version
 * even after the form changed: `<!-- scale-bot:form id=mm_amr version=2 -->`.
 */

const MARKER = /<!--\s*scale-bot:form\s+id=([a-z0-9][a-z0-9_-]*)\s+version=(\d{1,6})\s*-->/;

export function formMarker(formId: string, version: number): string {
  return `<!-- scale-bot:form id=${formId} version=${version} -->`;
}

export function readFormMarker(description: string): { id: string; version: number } | null {
  const m = MARKER.exec(description);
  return m ? { id: m[1]!, version: Number(m[2]) } : null;
}
