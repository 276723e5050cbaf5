export * from '../../lab/receivers';
