import type { KnownBlock, ModalView, Button, View } from '@slack/web-api';
export type X = [KnownBlock, ModalView, Button, View];
