import { h } from '../dom.js';
export async function renderLive(main: HTMLElement): Promise<void> {
  main.append(h('h1', null, 'Live'), h('p', null, 'Coming with the watch protocol.'));
}
