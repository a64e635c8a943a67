import { h } from '../dom.js';
export async function renderSimulator(main: HTMLElement): Promise<void> {
  main.append(h('h1', null, 'Simulator'), h('p', null, 'Coming with the watch protocol.'));
}
