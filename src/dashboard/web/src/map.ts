/**
 * The route map (Leaflet, bundled: nothing is fetched from a CDN). Tiles come from the server's MAP_TILE_URL
 * (GET /api/config); with none configured, offline, or when tiles fail to load, the track is drawn alone on a
 * plain background and a line says so. Positions come from the samples endpoint's `lat`/`lon` columns.
 */
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { h } from './dom.js';
import { PALETTE } from './palette.js';

export interface MapConfig {
  mapTileUrl: string;
  mapAttribution: string;
}

/** The track's points: rows where both lat and lon are numbers. */
export function trackPoints(lat: readonly (number | null)[] | undefined, lon: readonly (number | null)[] | undefined): [number, number][] {
  if (!lat || !lon) return [];
  const out: [number, number][] = [];
  for (let i = 0; i < lat.length; i++) {
    const a = lat[i];
    const b = lon[i];
    if (typeof a === 'number' && typeof b === 'number' && Math.abs(a) <= 90 && Math.abs(b) <= 180) out.push([a, b]);
  }
  return out;
}

export interface RouteMap {
  element: HTMLElement;
  destroy(): void;
}

/** A card with the map; null when the run has no track. */
export function routeMap(points: [number, number][], config: MapConfig): RouteMap | null {
  if (points.length < 2) return null;
  const box = h('div', { class: 'route-map', 'data-testid': 'route-map', role: 'img', 'aria-label': `Route map: ${points.length} points` });
  const note = h('p', { class: 'muted small', 'data-testid': 'map-note' });
  const element = h('section', { class: 'card', 'aria-labelledby': 'map-title' }, h('h2', { id: 'map-title' }, 'Route'), box, note);
  const map = L.map(box, { attributionControl: true, zoomControl: true, scrollWheelZoom: false, preferCanvas: false });
  const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
  const setState = (state: 'none' | 'offline' | 'loading' | 'loaded' | 'failed', text = '') => {
    box.dataset.tiles = state;
    note.textContent = text;
  };
  if (!config.mapTileUrl) setState('none', 'No map tiles on this server: the track is drawn alone.');
  else if (offline) setState('offline', 'Offline: the track is drawn without a map.');
  else {
    setState('loading');
    let failed = 0;
    const layer = L.tileLayer(config.mapTileUrl, { maxZoom: 19, attribution: config.mapAttribution, crossOrigin: false });
    layer.on('tileerror', () => {
      failed++;
      if (box.dataset.tiles !== 'loaded') setState('failed', 'The map tiles could not be loaded: the track is drawn alone.');
    });
    layer.on('tileload', () => {
      if (failed === 0) setState('loaded');
    });
    layer.addTo(map);
  }
  const line = L.polyline(points, { color: PALETTE.pace, weight: 4, opacity: 0.9 }).addTo(map);
  L.circleMarker(points[0]!, { radius: 6, color: '#ffffff', weight: 2, fillColor: '#009E73', fillOpacity: 1 }).bindTooltip('Start').addTo(map);
  L.circleMarker(points[points.length - 1]!, { radius: 6, color: '#ffffff', weight: 2, fillColor: '#D55E00', fillOpacity: 1 }).bindTooltip('Finish').addTo(map);
  // Laid out once the card is in the page (Leaflet measures its box).
  requestAnimationFrame(() => {
    map.invalidateSize();
    map.fitBounds(line.getBounds(), { padding: [16, 16] });
  });
  return { element, destroy: () => map.remove() };
}
